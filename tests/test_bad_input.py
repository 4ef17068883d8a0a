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
from functools import partial
from pathlib import Path

import lancedb
import numpy as np
import pyarrow as pa
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import catalog.encoder
import catalog.linker
from catalog.columns import ATTRIBUTE_COLUMNS, NAME_COLUMN
from catalog.cli import cli
from catalog.store import SCHEMA_VERSION, Store
from ingest.images import MAX_PIXELS, find_image
from ingest.reader import MISSING_MARKERS, read_styles
from tests.conftest import FAST_INGEST, FakeEncoder

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
    rows = Store.open(db).table("products").to_arrow().to_pylist()
    assert len(rows) == len({r["id"] for r in rows})  # never a duplicate id
    return {r["id"]: r for r in rows}


@pytest.fixture(scope="module")
def base_db(tmp_path_factory, demo_catalog):
    """A committed database of the 120-product demo catalog (fake encoder, short linker training)."""
    path = tmp_path_factory.mktemp("bad-input") / "db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(catalog.encoder, "ImageEncoder", FakeEncoder)
        patch.setattr(catalog.linker, "LinkerParams", partial(catalog.linker.LinkerParams, epochs=LINKER_EPOCHS))
        result = run("ingest", "--csv", demo_catalog.csv_path, "--images", demo_catalog.images_dir, "--db", path,
                     *FAST_INGEST)
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
    values = {"id": str(product_id), "gender": "Men", "masterCategory": "Apparel", "subCategory": "Topwear",
              "articleType": "Shirts", "baseColour": colour, "season": "Summer", "year": "2012", "usage": "Casual",
              NAME_COLUMN: name, **changes}
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
    ("utf8-with-one-cp1252-line",
     csv_text(G[:2]).encode() + ",".join(row(NEW_ID + 2, name="Señor Niño")).encode("cp1252") + b"\n"
     + ",".join(G[3]).encode(), GOOD, []),
    ("crlf", csv_text(G, newline="\r\n").encode(), GOOD, []),
    ("cr-only-old-mac", csv_text(G, newline="\r").encode(), GOOD, []),
    ("mixed-line-ends", (",".join(HEADER) + "\r\n" + ",".join(G[0]) + "\n" + ",".join(G[1]) + "\r"
                         + ",".join(G[2]) + "\r\n" + ",".join(G[3])).encode(), GOOD, []),
    ("semicolon-export", csv_text(G, delimiter=";").encode(), GOOD, []),
    ("tab-export", csv_text(G, delimiter="\t").encode(), GOOD, []),
    ("unquoted-commas-in-name", (",".join(HEADER) + "\n" + "\n".join(",".join(r) for r in G[:3])
                                 + "\n" + ",".join(row(NEW_ID + 3, name="Puma, Men, Black, Shoes")) + "\n").encode(),
     GOOD, []),
    ("quoted-newline-in-name", csv_text([*G[:3], row(NEW_ID + 3, name="two\nlines")]).encode(), GOOD, []),
    ("short-and-long-rows", csv_text([*G, ["1", "Men", "Apparel"], [*row(NEW_ID + 9)[:5]],
                                      [*row(NEW_ID + 8), "surplus", "more"]], header=[*HEADER[:-1], "price", NAME_COLUMN]
                                     ).replace("price", "price").encode(), None, None),
    ("missing-trailing-name", (",".join(HEADER) + "\n" + "\n".join(",".join(r) for r in G[:3])
                               + "\n" + ",".join(G[3][:-1]) + "\n").encode(), GOOD, []),
    ("extra-columns", csv_text([[*r, "19.99", "http://x"] for r in G], header=[*HEADER, "price", "link"]).encode(),
     GOOD, []),
    ("columns-reordered-and-renamed", csv_text([list(reversed(r)) for r in G], header=[
        "product display name", "Usage", "YEAR", "season", "base_colour", "article-type", "sub category",
        "master_category", "Gender", "ID"]).encode(), GOOD, []),
    ("duplicate-ids-last-wins", csv_text([row(NEW_ID, name="old"), *G]).encode(), GOOD, [2]),
    ("invalid-ids", csv_text([*G, row("abc"), row("-5"), row("1.5"), row(""), row("1e3"), row("9" * 30),
                              row("../../etc/passwd"), row("12; rm -rf /")]).encode(), GOOD, list(range(6, 14))),
    ("whole-number-ids", csv_text([row(f"{NEW_ID}.0", name="Good 0"), row(f" {NEW_ID + 1} ", name="Good 1"),
                                   *G[2:]]).encode(), GOOD, []),
    ("oversized-fields", csv_text([*G, row(NEW_ID + 5, colour="B" * 5000), row(NEW_ID + 6, name="N" * 300_000)]
                                  ).encode(), GOOD, [6, 7]),
    ("nul-bytes", csv_text([*G, row(NEW_ID + 5, name="bad\x00name")]).encode(), GOOD, [6]),
    ("unclosed-quote-swallows-rows", (",".join(HEADER) + "\n" + ",".join(row(NEW_ID + 7, name='"broken')) + "\n"
                                      + "\n".join(",".join(r) for r in G) + "\n").encode(), GOOD, [2]),
    ("blank-and-delimiter-only-lines", ("\n" + csv_text(G[:2]) + "\n,,,,,,,,,\n   \n" + "\n".join(",".join(r) for r in G[2:])
                                        ).encode(), GOOD, []),
]

WHOLE_FILE_ERRORS = [
    ("empty", b"", "is empty"),
    ("only-blank-lines", b"\n\r\n  \n", "is empty"),
    ("header-only", csv_text([]).encode(), "no data rows"),
    ("missing-required-column", csv_text([r[:5] + r[6:] for r in G], header=HEADER[:5] + HEADER[6:]).encode(),
     "lacks baseColour"),
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
    if lands is None:  # short/long rows: 4 good rows, the long one's surplus rejoins the name
        assert landed == GOOD | {NEW_ID + 8}
        assert [r["line"] for r in doc["rejected_rows"]] == [6, 7]
        assert all("fields" in r["reason"] for r in doc["rejected_rows"])
        return
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
cell_text = st.text(
    st.characters(categories=("L", "N", "P", "S", "Zs"), exclude_characters="\ufeff"), min_size=1, max_size=16
).map(str.strip).filter(lambda s: s and s.lower() not in MISSING_MARKERS)
tricky_text = st.sampled_from(["<script>alert(1)</script>", '"quoted"', "it's", "[bold red]x[/bold red]", "[/]",
                               "a,b;c|d e", "back\\", "Navy Blue", "Ünïcødé 中文 🧥", "=SUM(A1)"])
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
            lines.append(delimiter.join(
                cells[c] if c in ("id", column) else cells[c].replace('"', "").replace(delimiter, " ") for c in columns
            ))
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


@settings(max_examples=30, deadline=None, database=None, derandomize=IN_CI,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
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
