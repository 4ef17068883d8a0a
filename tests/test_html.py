"""HTML pages of results: self-contained, escaped, and rendered by a real browser (headless Chromium)."""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess

import pytest
from PIL import Image

from catalog.cli import html
from catalog.results import Attribute, Query, Result, Term
from tests.conftest import CHROMIUM_FLAGS
from tests.query_fixture import EVIL_NAME, query_db, run  # noqa: F401  (query_db is a fixture)

DATA_URI = re.compile(r'src="data:image/jpeg;base64,([A-Za-z0-9+/=]+)"')


def embedded_images(page: str) -> list[Image.Image]:
    return [Image.open(io.BytesIO(base64.b64decode(data))) for data in DATA_URI.findall(page)]


def test_page_escapes_catalog_text():
    """Names and values are user data: markup and quotes come out as text, in elements and attributes."""
    evil = {"id": 1, "gender": "<i>Men</i>", "baseColour": 'Red" onload="x', "productDisplayName": EVIL_NAME}
    other = {**evil, "id": 2, "gender": "Men & Boys"}
    query = Query(items=[evil], terms=[Term(Attribute("usage=<u>", "usage", "<u>", None), 1.0)], where="gender = '<b>'")
    page = html.results_page("<title>", "sub & title", query, {"rec": [Result(2, 0.5, other)]}, {1: b"\xff\xd8jpeg"})
    for raw in ("<script>", "<i>", "<b>", "<u>", 'Red" onload', "<title><"):
        assert raw not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &quot;Tee&quot; &amp; &lt;b&gt;co&lt;/b&gt;" in page
    assert "Men &amp; Boys" in page and "sub &amp; title" in page
    assert page.count("<script") == 0 and page.count("<style>") == 1


def test_similar_page_is_self_contained(query_db, tmp_path):
    out = tmp_path / "similar.html"
    result = run("similar", query_db.ids[0], "--space", "all", "-k", 4, "--db", query_db.path, "--html", out, "--json")
    assert result.stdout.startswith("{")  # --json still owns stdout; the page is a file
    page = out.read_text(encoding="utf-8")
    # the query and 3 spaces × 4 results, each with its thumbnail inside the page (products without a photo excepted)
    images = embedded_images(page)
    assert 1 + 4 <= len(images) <= 1 + 3 * 4 and all(image.format == "JPEG" for image in images)
    assert not re.search(r"""(src|href)=["']?(https?:|file:|/)""", page), "nothing outside the page is referenced"
    assert page.count('class="card"') == 3 * 4 and page.count('class="card query"') == 1
    for title in ("Image space", "Graph space", "Rec"):
        assert title in page
    assert "dd class=match" in page  # attributes shared with the query are highlighted


def test_page_of_an_evil_product_is_escaped(query_db, tmp_path):
    out = tmp_path / "evil.html"
    run("similar", query_db.evil_id, "--space", "graph", "--db", query_db.path, "--html", out)
    page = out.read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_query_page_embeds_the_uploaded_photo(query_db, tmp_path, fake_encoder):
    photo = tmp_path / "upload.png"
    Image.new("RGB", (1600, 1200), (200, 30, 40)).save(photo)
    out = tmp_path / "query.html"
    run(
        "query",
        "--image",
        photo,
        "--plus",
        "white:2",
        "--minus",
        "red",
        "--where",
        "gender = 'Men'",
        "--db",
        query_db.path,
        "--html",
        out,
    )
    page = out.read_text(encoding="utf-8")
    first = embedded_images(page)[0]
    assert max(first.size) <= 320 and first.getpixel((10, 10))[0] > 150  # the red upload, shrunk
    assert "+ baseColour=White ×2" in page and "− baseColour=Red" in page and "where gender = &#x27;Men&#x27;" in page


def test_infer_page(query_db, tmp_path):
    out = tmp_path / "infer.html"
    run("infer", "--id", query_db.ids[0], "--db", query_db.path, "--html", out)
    page = out.read_text(encoding="utf-8")
    assert page.count('<span class="track">') == 8 * 3 and len(embedded_images(page)) == 1
    assert "baseColour" in page and "catalog" in page


def test_unwritable_page_is_a_one_line_error(query_db, tmp_path):
    result = run(
        "similar", query_db.ids[0], "--db", query_db.path, "--html", tmp_path / "no" / "such" / "page.html", ok=False
    )
    assert result.exit_code == 1 and "cannot write" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install -y chromium)")
def test_page_renders_in_headless_chromium(query_db, tmp_path):
    """A real browser draws the page: the thumbnails decode and the styles apply."""
    page = tmp_path / "similar.html"
    run("similar", query_db.ids[0], "--space", "all", "--db", query_db.path, "--html", page)
    shot = tmp_path / "similar.png"
    done = subprocess.run(
        [
            CHROMIUM,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            "--window-size=1200,900",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shot.exists(), done.stderr[-2000:]
    image = Image.open(shot).convert("RGB")
    assert image.size == (1200, 900)
    colours = image.getcolors(maxcolors=1 << 20)
    assert len(colours) > 200, "a blank or unstyled page has few colours; thumbnails bring hundreds"
    # the highlight colour of shared attributes (#fff1a8) is drawn: the stylesheet applied
    assert any(abs(r - 0xFF) + abs(g - 0xF1) + abs(b - 0xA8) < 12 for _, (r, g, b) in colours)
