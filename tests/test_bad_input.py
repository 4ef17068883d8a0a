"""Hostile and broken input through the CLI: files from the wild, generated CSVs, bad photos, odd paths,
markup in product names, and databases that cannot or must not be written.

The promise under test (README, "Guarantees"): never a traceback; exit 0 with a per-row / per-image
report and the good rows landed, or exit 1 with one line and the database as it was.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import lancedb
import numpy as np
import pyarrow as pa
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from catalog.cli.main import cli
from catalog.core.columns import ATTRIBUTE_COLUMNS, NAME_COLUMN
from catalog.store.database import SCHEMA_VERSION, Store
from ingest.images import MAX_PIXELS, find_image
from ingest.reader import MISSING_MARKERS, read_styles
from tests.conftest import FAKE_ENCODER, FAST_INGEST, product_rows

REPO = Path(__file__).resolve().parent.parent
HEADER = ["id", *ATTRIBUTE_COLUMNS, NAME_COLUMN]
LINKER_EPOCHS = 3
# Ids of products added by these tests: far from the demo catalog's, so none has a photo unless a test adds one.
NEW_ID = 900_000
# CI runs the same generated examples every time (a red CI must be reproducible); elsewhere they vary.
IN_CI = bool(os.environ.get("CI"))


def run(*args, env=None):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env)


def assert_clean_exit(result) -> None:
    """Exit 0, or exit 1 with exactly one line that is a handled error (not an unexpected exception)."""
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    if result.exit_code == 0:
        return
    assert result.exit_code == 1, (result.exit_code, result.output, repr(result.exception))
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "unexpected" not in lines[0], lines[0]


def committed(db: Path):
    store = Store.open(db)
    return [r.run for r in store.runs()], store.table("products").to_arrow().sort_by("id").to_pylist()


def products(db: Path) -> dict[int, dict]:
    return product_rows(db)


@pytest.fixture(scope="module")
def base_db(tmp_path_factory, demo_catalog):
    """A committed database of the 120-product demo catalog (fake encoder, short linker training)."""
    path = tmp_path_factory.mktemp("bad-input") / "db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CATALOG_ENCODER", FAKE_ENCODER)
        result = run(
            "ingest",
            "--csv",
            demo_catalog.csv_path,
            "--images",
            demo_catalog.images_dir,
            "--db",
            path,
            *FAST_INGEST,
            "--epochs",
            LINKER_EPOCHS,
        )
        assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def db(tmp_path, base_db, fake_encoder):
    path = tmp_path / "db"
    shutil.copytree(base_db, path)
    return path


def ingest(db: Path, csv_path: Path, images: Path, *more):
    return run("ingest", "--csv", csv_path, "--images", images, "--db", db, *FAST_INGEST, *more)


# -- CSV files from the wild ---------------------------------------------------------------------


def row(product_id, name="Nike Men Blue Shirt", colour="Blue", **changes):
    values = {
        "id": str(product_id),
        "gender": "Men",
        "masterCategory": "Apparel",
        "subCategory": "Topwear",
        "articleType": "Shirts",
        "baseColour": colour,
        "season": "Summer",
        "year": "2012",
        "usage": "Casual",
        NAME_COLUMN: name,
        **changes,
    }
    return [values[c] for c in HEADER]


def csv_text(rows, header=HEADER, delimiter=",", newline="\n") -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator=newline).writerows([header, *rows])
    return buffer.getvalue()


G = [row(NEW_ID + n, name=f"Good {n}") for n in range(4)]  # rows that must always land
GOOD = {NEW_ID + n for n in range(4)}
UTF16_EXCEL = ("\t".join(HEADER) + "\r\n" + "".join("\t".join(r) + "\r\n" for r in G)).encode("utf-16")

WILD_CSV = [
    # (id, file bytes, ids that land, rejected line numbers)
    ("utf8-bom", codecs.BOM_UTF8 + csv_text(G).encode(), GOOD, []),
    ("utf16-excel-unicode-text", UTF16_EXCEL, GOOD, []),
    ("utf16-be", codecs.BOM_UTF16_BE + csv_text(G).encode("utf-16-be"), GOOD, []),
    ("utf16-le-no-bom", csv_text(G).encode("utf-16-le"), GOOD, []),
    ("cp1252", csv_text([row(NEW_ID, name="Café Crème €20 “quoted”"), *G[1:]]).encode("cp1252"), GOOD, []),
    (
        "utf8-with-one-cp1252-line",
        csv_text(G[:2]).encode()
        + ",".join(row(NEW_ID + 2, name="Señor Niño")).encode("cp1252")
        + b"\n"
        + ",".join(G[3]).encode(),
        GOOD,
        [],
    ),
    ("crlf", csv_text(G, newline="\r\n").encode(), GOOD, []),
    ("cr-only-old-mac", csv_text(G, newline="\r").encode(), GOOD, []),
    (
        "mixed-line-ends",
        (
            ",".join(HEADER)
            + "\r\n"
            + ",".join(G[0])
            + "\n"
            + ",".join(G[1])
            + "\r"
            + ",".join(G[2])
            + "\r\n"
            + ",".join(G[3])
        ).encode(),
        GOOD,
        [],
    ),
    ("semicolon-export", csv_text(G, delimiter=";").encode(), GOOD, []),
    ("tab-export", csv_text(G, delimiter="\t").encode(), GOOD, []),
    (
        "unquoted-commas-in-name",
        (
            ",".join(HEADER)
            + "\n"
            + "\n".join(",".join(r) for r in G[:3])
            + "\n"
            + ",".join(row(NEW_ID + 3, name="Puma, Men, Black, Shoes"))
            + "\n"
        ).encode(),
        GOOD,
        [],
    ),
    ("quoted-newline-in-name", csv_text([*G[:3], row(NEW_ID + 3, name="two\nlines")]).encode(), GOOD, []),
    # short rows are rejected; a long row's surplus fields are unquoted commas of the last column, the name
    (
        "short-and-long-rows",
        csv_text(
            [*G, ["1", "Men", "Apparel"], row(NEW_ID + 9)[:5], [*row(NEW_ID + 8)[:-1], "Shirt", " Blue", " Slim"]]
        ).encode(),
        GOOD | {NEW_ID + 8},
        [6, 7],
    ),
    (
        "missing-trailing-name",
        (",".join(HEADER) + "\n" + "\n".join(",".join(r) for r in G[:3]) + "\n" + ",".join(G[3][:-1]) + "\n").encode(),
        GOOD,
        [],
    ),
    (
        "extra-columns",
        csv_text([[*r, "19.99", "http://x"] for r in G], header=[*HEADER, "price", "link"]).encode(),
        GOOD,
        [],
    ),
    (
        "columns-reordered-and-renamed",
        csv_text(
            [list(reversed(r)) for r in G],
            header=[
                "product display name",
                "Usage",
                "YEAR",
                "season",
                "base_colour",
                "article-type",
                "sub category",
                "master_category",
                "Gender",
                "ID",
            ],
        ).encode(),
        GOOD,
        [],
    ),
    ("duplicate-ids-last-wins", csv_text([row(NEW_ID, name="old"), *G]).encode(), GOOD, [2]),
    (
        "invalid-ids",
        csv_text(
            [
                *G,
                row("abc"),
                row("-5"),
                row("1.5"),
                row(""),
                row("1e3"),
                row("9" * 30),
                row("../../etc/passwd"),
                row("12; rm -rf /"),
            ]
        ).encode(),
        GOOD,
        list(range(6, 14)),
    ),
    (
        "whole-number-ids",
        csv_text([row(f"{NEW_ID}.0", name="Good 0"), row(f" {NEW_ID + 1} ", name="Good 1"), *G[2:]]).encode(),
        GOOD,
        [],
    ),
    (
        "oversized-fields",
        csv_text([*G, row(NEW_ID + 5, colour="B" * 5000), row(NEW_ID + 6, name="N" * 300_000)]).encode(),
        GOOD,
        [6, 7],
    ),
    ("nul-bytes", csv_text([*G, row(NEW_ID + 5, name="bad\x00name")]).encode(), GOOD, [6]),
    (
        "unclosed-quote-swallows-rows",
        (
            ",".join(HEADER)
            + "\n"
            + ",".join(row(NEW_ID + 7, name='"broken'))
            + "\n"
            + "\n".join(",".join(r) for r in G)
            + "\n"
        ).encode(),
        GOOD,
        [2],
    ),
    (
        "blank-and-delimiter-only-lines",
        ("\n" + csv_text(G[:2]) + "\n,,,,,,,,,\n   \n" + "\n".join(",".join(r) for r in G[2:])).encode(),
        GOOD,
        [],
    ),
]

WHOLE_FILE_ERRORS = [
    ("empty", b"", "is empty"),
    ("only-blank-lines", b"\n\r\n  \n", "is empty"),
    ("header-only", csv_text([]).encode(), "no data rows"),
    (
        "missing-required-column",
        csv_text([r[:5] + r[6:] for r in G], header=HEADER[:5] + HEADER[6:]).encode(),
        "lacks baseColour",
    ),
    ("duplicate-header-column", csv_text(G, header=[*HEADER[:-1], "id"]).encode(), "appears twice"),
    ("html-error-page", b"<!DOCTYPE html><html><body><h1>403 Forbidden</h1></body></html>\n", "lacks"),
    ("a-jpeg-given-as-csv", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + bytes(range(256)) * 4, "lacks"),
    ("truncated-utf16", UTF16_EXCEL[:-1], "not valid UTF-16"),
    ("every-row-bad", csv_text([row("x"), row("y")]).encode(), "none of its 2 data rows"),
]


@pytest.mark.parametrize("name, data, lands, rejected_lines", WILD_CSV, ids=[c[0] for c in WILD_CSV])
def test_csv_from_the_wild(name, data, lands, rejected_lines, db, tmp_path, demo_catalog):
    path = tmp_path / "styles.csv"
    path.write_bytes(data)
    result = ingest(db, path, demo_catalog.images_dir, "--json")
    assert_clean_exit(result)
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    stored = products(db)
    landed = {i for i in stored if i >= NEW_ID}
    assert landed == lands
    assert sorted(r["line"] for r in doc["rejected_rows"]) == rejected_lines, doc["rejected_rows"]
    assert all(r["reason"] for r in doc["rejected_rows"])
    for product_id in GOOD:
        assert stored[product_id]["gender"] == "Men" and stored[product_id]["year"] == "2012"
        assert stored[product_id]["articleType"] == "Shirts" and np.linalg.norm(stored[product_id]["node_vector"]) > 0
    names = {stored[i][NAME_COLUMN] for i in GOOD}
    if name == "cp1252":
        assert "Café Crème €20 “quoted”" in names
    if name == "utf8-with-one-cp1252-line":
        assert "Señor Niño" in names
    if name == "unquoted-commas-in-name":
        assert "Puma, Men, Black, Shoes" in names
    if name == "short-and-long-rows":
        assert stored[NEW_ID + 8][NAME_COLUMN] == "Shirt, Blue, Slim"
        assert all("fields" in r["reason"] for r in doc["rejected_rows"])
    if name == "quoted-newline-in-name":
        assert "two lines" in names
    # one report line per rejected row (and per missing photo), no database noise
    assert len(doc["image_problems"]) == len(lands)


@pytest.mark.parametrize("name, data, message", WHOLE_FILE_ERRORS, ids=[c[0] for c in WHOLE_FILE_ERRORS])
def test_unusable_csv_is_one_line_and_writes_nothing(name, data, message, db, tmp_path, demo_catalog):
    path = tmp_path / "styles.csv"
    path.write_bytes(data)
    before = committed(db)
    result = ingest(db, path, demo_catalog.images_dir)
    assert_clean_exit(result)
    assert result.exit_code == 1 and message in result.stderr, result.stderr
    assert committed(db) == before


def test_csv_that_is_not_a_file(db, tmp_path, demo_catalog):
    for path, message in [(tmp_path, "is a directory"), (tmp_path / "nope.csv", "does not exist")]:
        result = ingest(db, path, demo_catalog.images_dir)
        assert_clean_exit(result)
        assert result.exit_code == 1 and message in result.stderr


# -- generated CSVs --------------------------------------------------------------------------------

# Cell text as exports have it: any letters, digits, punctuation (quotes, delimiters, brackets, <script>),
# symbols and spaces, in any script; no control characters (those are a separate, rejected case).
cell_text = (
    st.text(st.characters(categories=("L", "N", "P", "S", "Zs"), exclude_characters="\ufeff"), min_size=1, max_size=16)
    .map(str.strip)
    .filter(lambda s: s and s.lower() not in MISSING_MARKERS)
)
tricky_text = st.sampled_from(
    [
        "<script>alert(1)</script>",
        '"quoted"',
        "it's",
        "[bold red]x[/bold red]",
        "[/]",
        "a,b;c|d e",
        "back\\",
        "Navy Blue",
        "Ünïcødé 中文 🧥",
        "=SUM(A1)",
    ]
)
value = st.one_of(cell_text, tricky_text, st.just(""))
BAD_IDS = ["abc", "-5", "1.5", "", "1e3", "9" * 25, "../x", "0x10"]


@st.composite
def styles_files(draw):
    """(bytes, expected {id: values}, ids that may land, how many rejects at least)."""
    with_name = draw(st.booleans())
    columns = [*HEADER[:-1], *([NAME_COLUMN] if with_name else [])]
    columns += draw(st.lists(st.sampled_from(["price", "sku", "notes"]), unique=True, max_size=2))
    columns = draw(st.permutations(columns))
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    lines, expected, maybe, bad, unclosed = [], {}, set(), 0, False

    def write(cells):
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=delimiter, lineterminator="").writerow(cells)
        return buffer.getvalue()

    lines.append(write(columns))
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(["good"] * 6 + ["bad_id", "nul", "short", "oversized", "unclosed", "blank"]))
        product_id = NEW_ID + draw(st.integers(0, 40))
        values = {c: draw(value) for c in ATTRIBUTE_COLUMNS}
        values["year"] = draw(st.sampled_from(["", "2011", "2012.0", "1999"]))
        values[NAME_COLUMN] = draw(value) if with_name else ""
        cells = {"id": str(product_id), **values, "price": "9.99", "sku": "A-1", "notes": draw(value)}
        if kind == "good":
            if product_id in maybe:
                maybe.discard(product_id)
            expected[product_id] = {**values, "year": values["year"].removesuffix(".0")}
            lines.append(write([cells[c] for c in columns]))
        elif kind == "blank":
            lines.append(draw(st.sampled_from(["", delimiter * len(columns), "   "])))
        elif kind == "unclosed":
            # A quote opened and never closed (written by hand: the csv module would close it). That line
            # may land or not; the rows after it must.
            column = draw(st.sampled_from(ATTRIBUTE_COLUMNS))
            cells[column] = '"open'
            lines.append(
                delimiter.join(
                    cells[c] if c in ("id", column) else cells[c].replace('"', "").replace(delimiter, " ")
                    for c in columns
                )
            )
            expected.pop(product_id, None)
            maybe.add(product_id)
            unclosed = True
        else:
            bad += 1
            if kind == "bad_id":
                cells["id"] = draw(st.sampled_from(BAD_IDS))
                cells["gender"] = cells["gender"] or "Men"  # an all-empty line is blank, not a bad row
            elif kind == "nul":
                cells[draw(st.sampled_from(ATTRIBUTE_COLUMNS))] = "nul\x00byte"
            elif kind == "oversized":
                cells[draw(st.sampled_from(ATTRIBUTE_COLUMNS))] = "x" * 1200
            ordered = [cells[c] for c in columns]
            lines.append(write([cells["id"], "short", "row"] if kind == "short" else ordered))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = newline.join(lines) + draw(st.sampled_from(["", newline]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
    try:
        data = text.encode(encoding)
        if encoding == "cp1252" and any(_utf8_but_not_ascii(line) for line in data.splitlines()):
            data = text.encode("utf-8")  # such a line is genuinely ambiguous: a reader must take it as UTF-8
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    # Bad lines that an unclosed quote swallowed are reported inside its one reject: count only without those.
    return data, expected, maybe, 0 if unclosed else bad


def _utf8_but_not_ascii(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not line.isascii()


def check_against(stored: dict[int, dict], expected: dict[int, dict], maybe: set[int], before: set[int]) -> None:
    new = {i for i in stored if i >= NEW_ID}
    assert set(expected) <= new
    assert new - set(expected) <= maybe | before
    for product_id, values in expected.items():
        got = {c: stored[product_id][c] for c in values}
        assert got == values, (product_id, got, values)


@settings(
    max_examples=30,
    deadline=None,
    database=None,
    derandomize=IN_CI,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=styles_files(), as_json=st.booleans())
def test_generated_csvs_through_the_cli(case, as_json, db, tmp_path, demo_catalog):
    """Each generated file is ingested on top of the previous ones: good rows land with their exact values,
    bad ones are reported, and the database never holds an id twice."""
    data, expected, maybe, bad = case
    path = tmp_path / "generated.csv"
    path.write_bytes(data)
    before_ids = {i for i in products(db) if i >= NEW_ID}
    runs_before = len(Store.open(db).runs())
    result = ingest(db, path, demo_catalog.images_dir, *(["--json"] if as_json else []))
    assert_clean_exit(result)
    if expected:
        assert result.exit_code == 0, result.stderr
    if result.exit_code == 1:
        assert len(Store.open(db).runs()) == runs_before
        return
    check_against(products(db), expected, maybe, before_ids)
    for product_id, values in list(expected.items())[:1]:  # whatever the text, the terminal shows it as text
        shown = run("show", product_id, "--db", db, env={"COLUMNS": "400"})
        assert shown.exit_code == 0, shown.output
        assert all(v in shown.stdout for v in values.values()), (values, shown.stdout)
        assert_clean_exit(run("similar", product_id, "--space", "all", "--db", db, env={"COLUMNS": "400"}))
    if as_json:
        doc = json.loads(result.stdout)
        assert len(doc["rejected_rows"]) >= bad
    else:
        assert result.stderr.count("skipped line") >= min(bad, 20)


@settings(max_examples=300, deadline=None, database=None, derandomize=IN_CI)
@given(case=styles_files())
def test_generated_csvs_through_the_reader(case, tmp_path_factory):
    """The same generator, many more files, straight through the reader."""
    data, expected, maybe, bad = case
    path = tmp_path_factory.mktemp("gen") / "styles.csv"
    path.write_bytes(data)
    try:
        table = read_styles(path)
    except Exception as error:  # noqa: BLE001
        assert type(error).__name__ == "CatalogError" and not expected, error
        assert "\n" not in str(error)
        return
    stored = {int(r["id"]): r for r in table.rows.to_dict("records")}
    assert len(stored) == len(table.rows)
    check_against(stored, expected, maybe, set())
    assert len(table.rejects) >= bad and all(r.reason for r in table.rejects)


# -- photos -------------------------------------------------------------------------------------------


def _png(width: int, height: int, mode_byte: int = 0, rows: int | None = None) -> bytes:
    """A PNG of zeros with any declared size; `rows` < height writes only that many rows (header-only bombs)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    channels = {0: 1, 2: 3}[mode_byte]
    line = bytes(1 + width * channels)
    packer = zlib.compressobj(9)
    body = b"".join(packer.compress(line) for _ in range(height if rows is None else rows)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, mode_byte, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def _saved(image: Image.Image, format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def _jpeg_claiming(width: int, height: int) -> bytes:
    """A small JPEG whose frame header claims another size (what a decompression bomb looks like)."""
    data = bytearray(_saved(Image.new("RGB", (16, 16), "red"), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def _photo(size=(48, 64), colour=(200, 30, 30)) -> Image.Image:
    image = Image.new("RGB", size, colour)
    image.paste((20, 20, 200), (size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2))
    return image


def _rotated_jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90°
    return _saved(_photo(), "JPEG", exif=exif)


GOOD_PHOTOS = {
    "cmyk.jpg": lambda: _saved(_photo().convert("CMYK"), "JPEG"),
    "palette-transparent.png": lambda: _saved(_photo().convert("P"), "PNG", transparency=0),
    "grey-alpha.png": lambda: _saved(_photo().convert("LA"), "PNG"),
    "grey-16bit.png": lambda: _saved(Image.fromarray(np.full((40, 40), 40000, np.uint16)), "PNG"),
    "one-bit-bmp-named.jpg": lambda: _saved(_photo().convert("1"), "BMP"),
    "png-named.jpg": lambda: _saved(_photo(), "PNG"),
    "gif-named.jpg": lambda: _saved(_photo().convert("P"), "GIF"),
    "webp.webp": lambda: _saved(_photo(), "WEBP"),
    "one-pixel.jpg": lambda: _saved(Image.new("RGB", (1, 1), "green"), "JPEG"),
    "sliver-1x4000.png": lambda: _saved(Image.new("RGB", (1, 4000), "blue"), "PNG"),
    "exif-rotated.jpg": _rotated_jpeg,
    "progressive.jpg": lambda: _saved(_photo((300, 400)), "JPEG", progressive=True),
    "upper-case-extension.JPG": lambda: _saved(_photo(), "JPEG"),
}
BAD_PHOTOS = {
    "empty.jpg": (lambda: b"", "empty"),
    "truncated.jpg": (lambda: _saved(_photo((300, 400)), "JPEG")[:1500], "truncated"),
    "text.jpg": (lambda: b"this is not a photo\n", "not an image"),
    "html-error-page.jpg": (lambda: b"<html><body>404 Not Found</body></html>", "not an image"),
    "random-bytes.jpg": (lambda: np.random.default_rng(0).integers(0, 256, 5000, np.uint8).tobytes(), "not an image"),
    "eps-named.jpg": (lambda: b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n", "not an image"),
    "png-bomb-header.png": (lambda: _png(40_000, 40_000, rows=1), "too large"),
    "jpeg-bomb-header.jpg": (lambda: _jpeg_claiming(60_000, 60_000), "too large"),
    "truncated-png.png": (lambda: _saved(_photo(), "PNG")[:60], ""),
}


def test_hostile_photos_are_reported_and_the_rest_lands(db, tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    names = list(GOOD_PHOTOS) + list(BAD_PHOTOS) + ["a-folder.jpg"]
    ids = {name: NEW_ID + 100 + n for n, name in enumerate(names)}
    for name, make in GOOD_PHOTOS.items():
        (images / f"{ids[name]}{Path(name).suffix}").write_bytes(make())
    for name, (make, _) in BAD_PHOTOS.items():
        (images / f"{ids[name]}{Path(name).suffix}").write_bytes(make())
    (images / f"{ids['a-folder.jpg']}.jpg").mkdir()  # a folder where a photo should be: no photo
    path = tmp_path / "styles.csv"
    path.write_text(csv_text([row(product_id, name=name) for name, product_id in ids.items()]))

    result = ingest(db, path, images, "--json")
    assert_clean_exit(result)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    problems = {p["id"]: p["reason"] for p in report["image_problems"]}
    assert set(problems) == {ids[name] for name in [*BAD_PHOTOS, "a-folder.jpg"]}, problems
    assert report["summary"]["encoded"] == len(GOOD_PHOTOS)  # a photo that failed is not counted as encoded
    for name, (_, reason) in BAD_PHOTOS.items():
        assert reason in problems[ids[name]] and len(problems[ids[name]]) < 200, (name, problems[ids[name]])
    stored = products(db)
    assert set(ids.values()) <= set(stored)  # every product lands, with or without its photo
    for name in GOOD_PHOTOS:
        product = stored[ids[name]]
        assert product["has_image"] and product["thumbnail"], name
        assert np.linalg.norm(product["image_vector"]) > 0 and np.linalg.norm(product["rec_vector"]) > 0, name
        assert Path(product["image_path"]).parent == images  # photos come from the images folder only
        thumbnail = Image.open(io.BytesIO(product["thumbnail"]))
        assert thumbnail.format == "JPEG" and thumbnail.mode == "RGB"
    for name in BAD_PHOTOS:
        assert not stored[ids[name]]["has_image"], name
    rotated = Image.open(io.BytesIO(stored[ids["exif-rotated.jpg"]]["thumbnail"]))
    assert rotated.width > rotated.height  # 48x64 turned a quarter: orientation applied


def test_decompression_bombs_keep_memory_bounded(tmp_path):
    """An 86 KB PNG that decodes to 88 megapixels (just under the limit) and one that claims 1.6 gigapixels:
    the first costs well under half a GiB, the second is refused from its header before any pixel."""
    (tmp_path / "1.png").write_bytes(_png(9_400, 9_400))
    (tmp_path / "2.png").write_bytes(_png(40_000, 40_000, rows=1))
    code = (
        "import json, resource, sys, time; from pathlib import Path; from ingest.images import ImageError, load_image\n"
        "rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "out = {'base_mb': rss()}; started = time.perf_counter()\n"
        "try:\n    load_image(Path(sys.argv[1]) / '2.png', 64)\nexcept ImageError as error:\n    out['refused'] = str(error)\n"
        "out['refused_s'], out['after_refused_mb'] = time.perf_counter() - started, rss()\n"
        "out['decoded'] = load_image(Path(sys.argv[1]) / '1.png', 64).pixels.shape\n"
        "out['peak_mb'] = rss()\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    # refused from the header: no time, no memory (its pixels would take 1.6 GB)
    assert "too large" in out["refused"] and out["refused_s"] < 1 and out["after_refused_mb"] < out["base_mb"] + 20, out
    assert out["decoded"] == [64, 64, 3]  # just under the limit: decoded...
    assert out["peak_mb"] < out["base_mb"] + 4.5 * MAX_PIXELS / 2**20, out  # ...at ~4 bytes a pixel, never more


# -- paths and markup ----------------------------------------------------------------------------------


def test_image_paths_come_from_ids_and_stay_in_the_folder(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    (tmp_path / "7.jpg").write_bytes(b"outside")
    for product_id in (-1, 0, 7, 2**63 - 1, -(2**63)):
        (images / f"{product_id}.png").write_bytes(b"x")
        found = find_image(images, product_id)
        assert found is not None and found.parent == images and found.name == f"{product_id}.png"
    (images / "7.png").unlink()
    assert find_image(images, 7) is None  # never the 7.jpg one folder up


HOSTILE_NAMES = [
    '<script>alert("x")</script>',
    "[bold red]boom[/bold red]",
    "[/]",
    'Tom\'s "best" & co',
    "trailing backslash\\",
    "[link=https://example.com]click[/link]",
]


def test_markup_in_names_is_shown_literally(db, tmp_path, demo_catalog):
    images = tmp_path / "images"
    images.mkdir()
    photo = next(demo_catalog.images_dir.glob("*.jpg"))
    rows = []
    for n, name in enumerate(HOSTILE_NAMES):
        shutil.copy(photo, images / f"{NEW_ID + n}.jpg")
        rows.append(row(NEW_ID + n, name=name, colour="[red]Crimson[/red]"))
    rows.append(row("[bold]1[/bold]"))  # a rejected row whose raw id is markup
    path = tmp_path / "styles.csv"
    path.write_text(csv_text(rows))
    wide = {"COLUMNS": "250"}

    result = run("ingest", "--csv", path, "--images", images, "--db", db, *FAST_INGEST, env=wide)
    assert_clean_exit(result)
    assert result.exit_code == 0 and "(id [bold]1[/bold])" in result.stderr, result.stderr
    for n, name in enumerate(HOSTILE_NAMES):
        shown = run("show", NEW_ID + n, "--db", db, env=wide)
        assert shown.exit_code == 0 and name in shown.stdout and "[red]Crimson[/red]" in shown.stdout, shown.output
        similar = run("similar", NEW_ID + n, "--space", "graph", "--db", db, env=wide)
        assert similar.exit_code == 0 and name in similar.stdout, similar.output
    listed = run("attributes", "baseColour", "--db", db, env=wide)
    assert listed.exit_code == 0 and "[red]Crimson[/red]" in listed.stdout
    page = tmp_path / "page.html"
    assert run("similar", NEW_ID, "--space", "all", "--db", db, "--html", page).exit_code == 0
    html = page.read_text()
    assert "<script>alert" not in html and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


# -- the database folder -------------------------------------------------------------------------------

FAKE_ENTRY = (
    "import os, sys; os.environ['CATALOG_ENCODER'] = 'tests.conftest:FakeEncoder'; "
    "from catalog.cli.main import main; sys.argv[0] = 'catalog'; main()"
)


def test_db_that_is_a_file_or_another_folder(tmp_path, demo_catalog, fake_encoder):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "holiday.jpg").write_bytes(b"jpeg")
    for db, message in [(a_file, "is a file"), (folder, "is not a catalog database")]:
        result = ingest(db, demo_catalog.csv_path, demo_catalog.images_dir)
        assert_clean_exit(result)
        assert result.exit_code == 1 and message in result.stderr, result.stderr
        read = run("similar", "1", "--db", db)
        assert read.exit_code == 1 and "not a catalog database" in read.stderr
    assert a_file.read_text() == "mine" and sorted(p.name for p in folder.iterdir()) == ["holiday.jpg"]


def test_db_from_a_newer_catalog_is_refused_untouched(db, demo_catalog):
    runs = lancedb.connect(str(db)).open_table("runs")
    last = runs.to_arrow().sort_by("run").to_pylist()[-1]
    runs.add(
        pa.Table.from_pylist(
            [{**last, "run": last["run"] + 1, "schema_version": SCHEMA_VERSION + 1}], schema=runs.schema
        )
    )
    versions = {name: lancedb.connect(str(db)).open_table(name).version for name in ("products", "attributes", "runs")}
    for args in (
        ["similar", "1", "--db", db],
        [
            "ingest",
            "--csv",
            demo_catalog.csv_path,
            "--images",
            demo_catalog.images_dir,
            "--db",
            db,
            *FAST_INGEST,
            "--rebuild",
        ],
    ):
        result = run(*args)
        assert_clean_exit(result)
        assert result.exit_code == 1 and "newer catalog" in result.stderr, result.stderr
    assert versions == {name: lancedb.connect(str(db)).open_table(name).version for name in versions}


def _in_mount_namespace(script: str, *args) -> subprocess.CompletedProcess:
    """Run a shell script as root in a private mount namespace (read-only binds, tiny disks)."""
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare(1) for a private mount namespace")
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if probe.returncode:
        pytest.skip(f"cannot make a mount namespace here: {probe.stderr.decode().strip()}")
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(
        ["unshare", "-m", "sh", "-c", script, *args], capture_output=True, text=True, env=env, timeout=300
    )


def test_read_only_database_folder(db, demo_catalog):
    """chmod does not stop root, so the folder is bound read-only in a mount namespace: ingest fails with one
    line, reads still work."""
    product_id = next(iter(products(db)))
    script = (
        'mount --bind "$0" "$0" && mount -o remount,ro,bind "$0" || exit 99\n'
        '"$1" -c "$2" ingest --csv "$3" --images "$4" --db "$0" --weights random --image-size 64 --rebuild; echo "ingest=$?"\n'
        '"$1" -m catalog similar "$5" --db "$0" --json -k 2 > "$0.similar.json"; echo "similar=$?"\n'
    )
    before = committed(db)
    done = _in_mount_namespace(
        script, db, sys.executable, FAKE_ENTRY, demo_catalog.csv_path, demo_catalog.images_dir, str(product_id)
    )
    assert "ingest=1" in done.stdout and "similar=0" in done.stdout, done.stdout + done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error")]
    assert errors == [f"Error: cannot write to the database folder {db}: Read-only file system"], done.stderr
    assert len(json.loads(Path(f"{db}.similar.json").read_text())["results"]) == 2
    assert committed(db) == before


def test_full_disk_fails_cleanly_and_the_next_ingest_recovers(db, tmp_path, demo_catalog):
    """The database on a tmpfs with 32 KB left: the ingest fails with one line and commits nothing; with
    space again, the next ingest completes. Both states are copied out of the namespace to check."""
    failed, recovered = tmp_path / "after-failure", tmp_path / "after-recovery"
    failed.mkdir()
    recovered.mkdir()
    disk = tmp_path / "disk"
    disk.mkdir()
    images = tmp_path / "images"  # 40 new products with photos: an incremental ingest, no training
    images.mkdir()
    for n, photo in enumerate(sorted(demo_catalog.images_dir.glob("*.jpg"))[:40]):
        shutil.copy(photo, images / f"{NEW_ID + n}.jpg")
    styles = tmp_path / "new.csv"
    styles.write_text(csv_text([row(NEW_ID + n, name=f"New {n}") for n in range(40)]))
    script = (
        'mount -t tmpfs -o size=16m tmpfs "$0" && cp -a "$1" "$0/db" || exit 99\n'
        'cat /dev/zero > "$0/filler" 2>/dev/null; truncate -s -32K "$0/filler"\n'
        'disk="$0" python="$2" entry="$3" styles="$4" images="$5"\n'
        'run() { "$python" -c "$entry" ingest --csv "$styles" --images "$images" --db "$disk/db" --weights random '
        "--image-size 64 --json; }\n"
        'run > /dev/null; echo "full=$?"; cp -a "$disk/db/." "$6"\n'
        'rm "$disk/filler"; run > /dev/null 2>&1; echo "again=$?"; cp -a "$disk/db/." "$7"\n'
    )
    before = committed(db)
    done = _in_mount_namespace(script, disk, db, sys.executable, FAKE_ENTRY, styles, images, failed, recovered)
    assert "full=1" in done.stdout and "again=0" in done.stdout, done.stdout + done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error")]
    assert errors == [
        f"Error: cannot write to the database folder {disk}/db: No space left on device; nothing was committed"
    ], done.stderr
    assert committed(failed) == before
    runs, rows = committed(recovered)
    assert runs == [*before[0], before[0][-1] + 1] and len(rows) == len(before[1]) + 40
    assert all(r["has_image"] and np.linalg.norm(r["rec_vector"]) > 0 for r in rows if r["id"] >= NEW_ID)
