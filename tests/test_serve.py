"""`catalog serve`'s JSON API and pages, through the real server (a subprocess on a loopback port).

The API must answer what `--json` prints, refuse bad requests with one-line JSON and the right
4xx status, stay read-only and local by default, and move to a new run when an ingest commits.
"""

from __future__ import annotations

import http.client
import io
import json
import shutil
import socket
import struct
import subprocess
import sys
import time
import uuid

import psutil
import pytest
from PIL import Image

from tests.conftest import FAKE_ENCODER, FAST_INGEST
from tests.conftest import run_cli as run
from tests.query_fixture import EVIL_NAME, query_db  # noqa: F401  (query_db is a fixture)
from tests.server_fixture import fetch, get_json, server, serving  # noqa: F401  (server is a fixture)


def cli_json(*args, env=None) -> object:
    return json.loads(run(*args, "--json", env=env).stdout)


def same(a, b) -> bool:
    """Equal documents, scores to 3 decimals: the server ranks from memory, the CLI through LanceDB,
    and float32 sums in another order may move the 4th decimal."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) < 1e-3
    return a == b


def multipart(fields: dict, files: dict) -> tuple[bytes, dict]:
    """A multipart/form-data body (urllib has no helper for it)."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{item}\r\n'.encode())
    for name, (filename, data) in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n".encode()
            + data
            + b"\r\n"
        )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def post(server, path, fields=None, files=None):  # noqa: F811
    body, headers = multipart(fields or {}, files or {})
    status, _, answer = server.get(path, data=body, headers=headers, method="POST")
    return status, json.loads(answer)


def photo_bytes(query_db, product_id: int) -> bytes:
    return (query_db.images_dir / f"{product_id}.jpg").read_bytes()


def test_api_answers_what_json_prints(server, query_db):  # noqa: F811
    db, item = query_db.path, query_db.ids[0]
    env = {"CATALOG_ENCODER": FAKE_ENCODER}
    cases = [
        (f"/api/similar/{item}?space=all&k=4", ("similar", item, "--space", "all", "-k", 4)),
        (f"/api/similar/{item}?where=gender%20%3D%20%27Men%27", ("similar", item, "--where", "gender = 'Men'")),
        (
            f"/api/query?id={item}&plus=black:2&plus=shoes&minus=topwear&k=5",
            ("query", "--id", item, "--plus", "black:2,shoes", "--minus", "topwear", "-k", 5),
        ),
        (f"/api/infer?id={item}&top=2", ("infer", "--id", item, "--top", 2)),
        (f"/api/products/{item}", ("show", item)),
        ("/api/attributes?column=colour", ("attributes", "colour")),
        ("/api/history", ("history",)),
    ]
    for path, command in cases:
        status, document = get_json(server.url + path)
        assert status == 200, (path, document)
        assert same(document, cli_json(*command, "--db", db, env=env)), path
    status, info = get_json(server.url + "/api/info")
    expected = cli_json("info", "--db", db)
    assert status == 200 and info["products"] == expected["products"] and info["encoder"] == expected["encoder"]


def test_photo_queries(server, query_db):  # noqa: F811
    """A photo upload answers like `query --image`; /api/photo gives both spaces and the attributes."""
    item = query_db.ids[1]
    status, document = post(
        server, "/api/query", {"plus": "black", "k": "4"}, {"image": ("x.jpg", photo_bytes(query_db, item))}
    )
    expected = cli_json(
        "query",
        "--image",
        query_db.images_dir / f"{item}.jpg",
        "--plus",
        "black",
        "-k",
        4,
        "--db",
        query_db.path,
        env={"CATALOG_ENCODER": FAKE_ENCODER},
    )
    assert status == 200, document
    assert same(document["results"], expected["results"]) and document["image"] == "upload"

    status, found = post(server, "/api/photo", {"k": "3"}, {"image": ("x.jpg", photo_bytes(query_db, item))})
    assert status == 200 and set(found["results"]) == {"image", "rec"}
    # the catalog's own photo is its own nearest photo
    assert found["results"]["image"][0]["id"] == item and found["results"]["image"][0]["score"] > 0.999
    assert len(found["attributes"]) == 8 and all(len(v) == 3 for v in found["attributes"].values())

    status, inferred = post(server, "/api/infer", {"top": "1"}, {"image": ("x.png", photo_bytes(query_db, item))})
    assert status == 200 and all(len(v) == 1 for v in inferred["attributes"].values())


def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 40)).save(buffer, "PNG")
    return buffer.getvalue()


def _bomb() -> bytes:
    """A small JPEG whose frame header claims 60000 x 60000 pixels (what a decompression bomb looks like)."""
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), "red").save(buffer, "JPEG")
    data = bytearray(buffer.getvalue())
    frame = data.index(b"\xff\xc0")
    data[frame + 5 : frame + 9] = struct.pack(">HH", 60000, 60000)
    return bytes(data)


@pytest.mark.parametrize(
    ("method", "path", "upload", "status", "message"),
    [
        ("GET", "/api/similar/999999999", None, 404, "no product with id 999999999"),
        ("GET", "/api/products/999999999", None, 404, "no product with id 999999999"),
        ("GET", "/api/similar/abc", None, 400, "id: "),
        ("GET", "/api/similar/{id}?k=0", None, 400, "k: "),
        ("GET", "/api/similar/{id}?space=colour", None, 400, "unknown space 'colour'"),
        ("GET", "/api/query?id={id}&plus=watches", None, 400, "'watches' is ambiguous"),
        ("GET", "/api/query?id={id}&plus=gren", None, 400, "did you mean baseColour=Green"),
        ("GET", "/api/similar/{id}?where=colour%20%3D%20%27Red%27", None, 400, "unknown column 'colour'"),
        ("GET", "/api/similar/{id}?where=gender%20%3D%20%22Men%22", None, 400, "single quotes"),
        ("GET", "/api/attributes?column=size", None, 400, "unknown attribute column 'size'"),
        ("GET", "/api/nothing-here", None, 404, "no such page"),
        ("DELETE", "/api/products/{id}", None, 405, "Method Not Allowed"),
        ("POST", "/api/query", None, 400, "no photo uploaded"),
        ("POST", "/api/query", ("text.jpg", b"hello, not a photo"), 400, "not an image"),
        ("POST", "/api/query", ("bomb.png", "bomb"), 400, "image too large"),
        ("POST", "/api/query", ("empty.jpg", b""), 400, "the uploaded photo is empty"),
    ],
)
def test_bad_requests_are_one_line_json(server, query_db, method, path, upload, status, message):  # noqa: F811
    path = path.format(id=query_db.ids[0])
    if upload is None:
        answer_status, headers, body = server.get(path, method=method, data=b"" if method == "POST" else None)
    else:
        name, data = upload
        data = {"bomb": _bomb()}.get(data, data)
        body, headers = multipart({}, {"image": (name, data)})
        answer_status, headers, body = server.get(path, data=body, headers=headers, method="POST")
    assert answer_status == status, body
    assert headers["content-type"] == "application/json"
    document = json.loads(body)
    assert list(document) == ["error"] and message in document["error"], document
    assert "\n" not in document["error"] and "Traceback" not in document["error"]


def test_uploads_over_the_limit_are_refused_unread(server):  # noqa: F811
    """413 from the declared length alone (nothing read), and from the bytes counted on a chunked body."""
    host, port = server.url.removeprefix("http://").split(":")
    declared = http.client.HTTPConnection(host, int(port), timeout=30)
    declared.putrequest("POST", "/api/query")
    declared.putheader("Content-Type", "multipart/form-data; boundary=x")
    declared.putheader("Content-Length", str(50 * 1024 * 1024))
    declared.endheaders()  # and no body at all: the answer must not wait for it
    response = declared.getresponse()
    assert response.status == 413 and json.loads(response.read()) == {"error": "upload too large: the limit is 1 MB"}

    body, headers = multipart({}, {"image": ("big.png", b"\0" * (1024 * 1024 + 1))})
    chunked = http.client.HTTPConnection(host, int(port), timeout=30)
    chunked.request(
        "POST",
        "/api/query",
        body=iter([body[i : i + 65536] for i in range(0, len(body), 65536)]),
        headers={**headers, "Transfer-Encoding": "chunked"},
        encode_chunked=True,
    )
    response = chunked.getresponse()
    assert response.status == 413 and "upload too large" in json.loads(response.read())["error"]


def test_openapi_describes_the_api(server):  # noqa: F811
    status, spec = get_json(server.url + "/api/openapi.json")
    assert status == 200 and spec["info"]["title"] == "catalog"
    assert {
        "/api/similar/{id}",
        "/api/query",
        "/api/infer",
        "/api/products/{id}",
        "/api/products",
        "/api/attributes",
        "/api/info",
        "/api/history",
        "/api/photo",
    } <= set(spec["paths"])
    assert set(spec["paths"]["/api/query"]) == {"get", "post"}
    assert not any(method in ("put", "delete", "patch") for ops in spec["paths"].values() for method in ops)
    assert not any(path.startswith("/product/") or path == "/" for path in spec["paths"])  # pages are not API


def test_browse_api_pages_and_filters(server, query_db):  # noqa: F811
    status, everything = get_json(server.url + "/api/products?per_page=50")
    assert status == 200 and everything["total"] == cli_json("info", "--db", query_db.path)["products"]
    status, men = get_json(server.url + "/api/products?gender=Men&per_page=50")
    assert 0 < men["total"] < everything["total"] and all(p["gender"] == "Men" for p in men["products"])
    status, second = get_json(server.url + "/api/products?gender=Men&per_page=5&page=2")
    assert [p["id"] for p in second["products"]] == [p["id"] for p in men["products"][5:10]]
    status, by_id = get_json(server.url + f"/api/products?q={query_db.ids[0]}")
    assert [p["id"] for p in by_id["products"]] == [query_db.ids[0]]
    status, evil = get_json(server.url + "/api/products?q=%3Cscript%3E")  # words of a name, markup and all
    assert [p["id"] for p in evil["products"]] == [query_db.evil_id] and evil["products"][0][
        "productDisplayName"
    ] == EVIL_NAME


def test_pages_escape_catalog_values(server, query_db):  # noqa: F811
    for path in (f"/product/{query_db.evil_id}", "/?q=Evil", f"/arithmetic?id={query_db.evil_id}"):
        status, headers, body = server.get(path)
        page = body.decode()
        assert status == 200 and headers["content-type"].startswith("text/html"), path
        assert "<script>alert" not in page and "&lt;script&gt;alert(" in page, path
    status, _, body = server.get("/?q=%3Cb%3Ebold%3C%2Fb%3E")  # the search words come back escaped too
    assert b"<b>bold</b>" not in body and b"&lt;b&gt;bold&lt;/b&gt;" in body


def test_pages_answer_and_errors_are_pages(server, query_db):  # noqa: F811
    for path in (
        "/",
        "/?gender=Men&page=2",
        f"/product/{query_db.ids[0]}",
        f"/product/{query_db.no_photo_id}",
        "/arithmetic",
        f"/arithmetic?id={query_db.ids[0]}&plus=baseColour%3DBlack%3A2",
        "/photo",
        "/catalog",
        f"/thumb/{query_db.ids[0]}.jpg",
        f"/thumb/{query_db.no_photo_id}.jpg",
        "/static/style.css",
    ):
        status, headers, body = server.get(path)
        assert status == 200, (path, body[:300])
    assert server.get(f"/thumb/{query_db.ids[0]}.jpg")[1]["content-type"] == "image/jpeg"
    status, headers, body = server.get("/product/999999999")
    assert status == 404 and b"no product with id 999999999" in body and headers["content-type"].startswith("text/html")
    status, _, body = server.get(f"/arithmetic?id={query_db.ids[0]}&plus=nosuchvalue")
    assert status == 400 and b"unknown attribute" in body
    assert b"No evaluation saved yet" in server.get("/catalog")[2]
    status, _, body = server.get("/catalog/eval.png")
    assert status == 404 and b"no eval run saved" in body


def test_binds_to_localhost_and_writes_nothing(server, query_db):  # noqa: F811
    listening = [c.laddr for c in psutil.Process(server.process.pid).net_connections("inet") if c.status == "LISTEN"]
    assert listening and all(address.ip == "127.0.0.1" for address in listening)
    before = {p: p.stat().st_mtime_ns for p in query_db.path.rglob("*") if p.is_file()}
    for path in ("/api/similar/{id}", "/product/{id}", "/api/info", "/catalog"):
        server.get(path.format(id=query_db.ids[0]))
    assert {p: p.stat().st_mtime_ns for p in query_db.path.rglob("*") if p.is_file()} == before


def test_follows_a_committed_ingest_without_restart(tmp_path, query_db, demo_catalog):
    """An ingest into the served database: the server keeps answering, then serves the new run."""
    db = tmp_path / "db"
    shutil.copytree(query_db.path, db)
    lines = demo_catalog.csv_path.read_text(encoding="utf-8").splitlines()
    new_id = 990001
    source = next(line for line in lines[1:] if line.split(",", 1)[0] == str(query_db.ids[2]))
    added = tmp_path / "added.csv"
    added.write_text(lines[0] + "\n" + f"{new_id}," + source.split(",", 1)[1] + "\n", encoding="utf-8")
    images = tmp_path / "images"
    images.mkdir()
    shutil.copy(query_db.images_dir / f"{query_db.ids[2]}.jpg", images / f"{new_id}.jpg")
    with serving(db) as server:  # noqa: F811
        status, before = get_json(server.url + "/api/info")
        assert server.get(f"/api/products/{new_id}")[0] == 404
        run(
            "ingest",
            "--csv",
            added,
            "--images",
            images,
            "--db",
            db,
            *FAST_INGEST,
            env={"CATALOG_ENCODER": FAKE_ENCODER},
        )
        deadline = time.monotonic() + 15
        while server.get(f"/api/products/{new_id}")[0] != 200:
            assert time.monotonic() < deadline, "the server did not move to the new run"
            time.sleep(0.2)
        status, after = get_json(server.url + "/api/info")
        assert after["products"] == before["products"] + 1 and after["run"]["run"] == before["run"]["run"] + 1
        status, similar = get_json(server.url + f"/api/similar/{new_id}?space=image&k=1")
        assert similar["results"][0]["id"] == query_db.ids[2]  # the same photo: found in memory, by the new run
        status, _, page = server.get(f"/?q={new_id}")
        assert f'data-id="{new_id}"'.encode() in page


def test_port_in_use_is_one_line(query_db):  # noqa: F811
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "catalog", "serve", "--db", str(query_db.path), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 1 and result.stderr.strip().splitlines() == [
        f"Error: cannot listen on 127.0.0.1:{port}: Address already in use; choose another --port or --host"
    ]


def test_catalog_page_shows_the_last_evaluation(tmp_path, query_db):  # noqa: F811
    db = tmp_path / "db"
    shutil.copytree(query_db.path, db)
    precision = {
        space: {"gender": 0.5, "articleType": value}
        for space, value in (("rec", 0.61), ("image", 0.52), ("graph", 0.93), ("random", 0.08))
    }
    document = {
        "k": 10,
        "holdout": 12,
        "in_sample": 108,
        "precision": precision,
        "ndcg": {"rec": 0.7, "image": 0.6, "graph": 0.9, "random": 0.3},
        "linker": {"kind": "cosine"},
    }
    (db / "eval.json").write_text(json.dumps(document))
    with serving(db) as server:  # noqa: F811
        status, _, page = server.get("/catalog")
        assert status == 200 and b"12 held-out photos queried against 108 products" in page and b"0.610" in page
        status, headers, png = server.get("/catalog/eval.png")
        assert status == 200 and headers["content-type"] == "image/png" and png.startswith(b"\x89PNG")
        assert Image.open(io.BytesIO(png)).size == (1300, 500)


def test_arithmetic_page_from_a_photo(server, query_db):  # noqa: F811
    """The builder's "+ add" on a photo: the page answers with the chip and the photo's results."""
    body, headers = multipart(
        {"add": "plus", "add_key": "baseColour=Black", "add_weight": "2", "k": "4"},
        {"photo": ("mine.jpg", photo_bytes(query_db, query_db.ids[1]))},
    )
    status, _, page = server.get("/arithmetic", data=body, headers=headers, method="POST")
    text = page.decode()
    assert status == 200 and "photo upload +baseColour=Black×2" in text
    assert 'data-key="baseColour=Black"' in text and text.count('class="card"') == 4


def test_pages_carry_a_content_security_policy(server):  # noqa: F811
    """Only the server's own scripts run on its pages (the browser test checks the pages still work under it)."""
    for path in ("/", "/photo", "/api/info", "/api/docs"):  # the API docs too: Swagger UI is served from the package
        headers = server.get(path)[1]
        assert headers["x-content-type-options"] == "nosniff"
        assert (
            "script-src 'self'" in headers["content-security-policy"]
            and "frame-ancestors 'none'" in headers["content-security-policy"]
        )
    status, _, page = server.get("/api/docs")
    assert status == 200 and b"/static/docs/swagger-ui-bundle.js" in page and b"http" not in page
    for asset in ("/static/docs/swagger-ui-bundle.js", "/static/docs/swagger-ui.css", "/static/api-docs.js"):
        assert server.get(asset)[0] == 200, asset
