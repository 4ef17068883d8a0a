"""`catalog serve` run for a team, through the real server: a token, two workers, /healthz and
/metrics, access logs, a slow filter that holds up nobody else, the photo queue's 503, and the
OpenAPI document real answers validate against. Plus the library's side: a quiet `Catalog`, model
files checked against their hash, and no credentials in any repr.

Servers cost seconds to start, so each test here starts at most one and checks everything that
server is for.
"""

from __future__ import annotations

import copy
import http.client
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import jsonschema
import psutil
import pytest

from tests.query_fixture import query_db  # noqa: F401  (a fixture)
from tests.server_fixture import ROOT, SLOW_ENCODER, fetch, server, serving  # noqa: F401  (server: a fixture)
from tests.test_serve import multipart, photo_bytes

TOKEN = "team-token-0123456789abcdef"


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the Prometheus text exposition (0 when absent)."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        head, _, value = line.rpartition(" ")
        sample, _, rest = head.partition("{")
        found = dict(re.findall(r'(\w+)="([^"]*)"', rest))
        if sample == name and all(found.get(k) == v for k, v in labels.items()):
            return float(value)
    return 0.0


def unfollowed(url: str) -> tuple[int, dict]:
    """(status, headers) of a GET whose redirect is not followed (urllib would follow it)."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    connection.request("GET", f"{parts.path}?{parts.query}")
    response = connection.getresponse()
    response.read()
    return response.status, {k.lower(): v for k, v in response.getheaders()}


def test_a_team_server_with_a_token_and_two_workers(query_db):  # noqa: F811
    item = query_db.ids[0]
    with serving(query_db.path, "--workers", "2", "--access-log", token=TOKEN) as running:
        workers = psutil.Process(running.process.pid).children(recursive=True)
        assert len([w for w in workers if "spawn_main" in " ".join(w.cmdline())]) == 2

        # The API: 401 in its JSON error form without the token or with a wrong one, 200 with it.
        for headers, reason in (({}, "needs a token"), ({"Authorization": "Bearer wrong-token-0123456789"}, "not the")):
            status, answer_headers, body = running.get(f"/api/similar/{item}", headers=headers, auth=False)
            assert status == 401 and answer_headers["www-authenticate"] == "Bearer"
            assert list(json.loads(body)) == ["error"] and reason in json.loads(body)["error"]
        assert running.get(f"/api/similar/{item}")[0] == 200
        # Pages: a login-free 401 page, then a ?token= link sets a cookie and drops the token from the address.
        status, _, page = running.get("/", auth=False)
        assert status == 401 and b"This catalog needs a token" in page and TOKEN.encode() not in page
        status, headers = unfollowed(running.url + f"/catalog?token={TOKEN}&q=x")
        assert status == 303 and headers["location"] == "/catalog?q=x"
        cookie = headers["set-cookie"].split(";")[0]
        assert "HttpOnly" in headers["set-cookie"] and "SameSite=Strict" in headers["set-cookie"]
        assert TOKEN not in cookie  # the cookie holds an HMAC of the token, not the token
        assert running.get("/catalog", headers={"Cookie": cookie}, auth=False)[0] == 200
        assert running.get(f"/thumb/{item}.jpg", headers={"Cookie": cookie}, auth=False)[0] == 200
        assert running.get(f"/?token={'x' * 20}", auth=False)[0] == 401
        # Open without it: the probe and the package's own files.
        assert running.get("/healthz", auth=False)[0] == 200
        assert running.get("/static/style.css", auth=False)[0] == 200
        assert running.get("/metrics", auth=False)[0] == 401
        # The OpenAPI document says how to authenticate.
        spec = json.loads(running.get("/api/openapi.json")[2])
        assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"

        # /metrics is the server's, not one worker's: 40 requests on 40 connections (spread over the
        # two workers by the kernel) are counted 40 times whichever worker answers the scrape.
        def requests_counted() -> float:
            text = running.get("/metrics")[2].decode()
            return metric(text, "catalog_http_requests_total", route="/api/similar/{id}", status="200")

        before = requests_counted()
        for _ in range(40):
            assert running.get(f"/api/similar/{item}?k=3")[0] == 200
        text = running.get("/metrics")[2].decode()
        assert requests_counted() - before == 40
        assert metric(text, "catalog_http_requests_total", route="(none)", status="401") >= 2  # refused before routing
        assert metric(text, "catalog_http_request_duration_seconds_count", route="/api/similar/{id}") >= 40
        assert metric(text, "catalog_http_request_duration_seconds_bucket", route="/api/similar/{id}", le="+Inf") >= 40
        info = json.loads(running.get("/api/info")[2])
        assert metric(text, "catalog_run") == info["run"]["run"]
        assert metric(text, "catalog_products") == info["products"]
        assert 0 <= metric(text, "catalog_snapshot_age_seconds") < 600
        assert "catalog_photo_encodes_in_flight" in text and "catalog_photo_encodes_waiting" in text
        assert f"/api/similar/{item}" not in text  # routes by template: one series per route, not per id

        status, _, body = running.get("/healthz", auth=False)
        health = json.loads(body)
        assert status == 200 and health["status"] == "ok" and health["run"] == info["run"]["run"]
        pids = {w.pid for w in workers}
    # One JSON access-log line per request, by both workers; the token in none of them.
    lines = [json.loads(line) for line in running.output.splitlines() if line.startswith("{")]
    assert len([line for line in lines if line["route"] == "/api/similar/{id}"]) == 41
    assert {line["pid"] for line in lines} <= pids
    assert all({"time", "method", "path", "status", "ms", "route"} <= line.keys() for line in lines)
    assert any(line["query"] == "token=REDACTED&q=x" for line in lines)
    assert TOKEN not in running.output


def test_a_catalog_too_large_to_copy_is_answered_from_lancedb(server, query_db):  # noqa: F811
    """A copy that would not fit in --memory-limit (two workers: two copies) is not loaded: the server
    says so at start, /healthz says it answers from LanceDB, and its answers equal the in-memory server's."""
    item = query_db.ids[0]
    with serving(query_db.path, "--memory-limit", "0.2", "--workers", "2") as running:
        health = json.loads(running.get("/healthz", auth=False)[2])
        from_lancedb = json.loads(running.get(f"/api/similar/{item}?k=5&space=graph")[2])
    assert re.search(
        r"an in-memory copy of 120 products needs ~[\d.]+ MB \(2 workers\), over the 0\.2 MB limit", running.output
    )
    assert "answering from LanceDB's indexes instead" in running.output
    assert health["memory"] is False
    assert json.loads(server.get("/healthz", auth=False)[2])["memory"] is True
    from_memory = json.loads(server.get(f"/api/similar/{item}?k=5&space=graph")[2])
    assert [r["id"] for r in from_lancedb["results"]] == [r["id"] for r in from_memory["results"]]


@pytest.mark.parametrize(
    ("args", "env", "code", "message"),
    [
        (
            ["--host", "0.0.0.0"],
            {},
            1,
            "Error: --host 0.0.0.0 serves other machines, so it needs a token: set CATALOG_TOKEN",
        ),
        (["--token", "short"], {}, 2, "a token needs at least 16 characters"),
        (["--no-auth", "--host", "0.0.0.0"], {"CATALOG_TOKEN": TOKEN}, 2, "contradict each other"),
    ],
)
def test_refuses_to_serve_the_network_without_a_token(query_db, args, env, code, message):  # noqa: F811
    environment = {k: v for k, v in os.environ.items() if k != "CATALOG_TOKEN"} | env
    result = subprocess.run(
        [sys.executable, "-m", "catalog", "serve", "--db", str(query_db.path), "--port", "1", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
    )
    assert result.returncode == code and message in result.stderr
    if code == 1:
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_slow_filters_photo_queue_and_health(tmp_path, query_db):  # noqa: F811
    """A slow new --where filter runs off the event loop (other requests go on being answered); a
    full photo queue answers 503 with Retry-After; /healthz turns 503 with the reason when the
    database goes away."""
    db = tmp_path / "db"
    shutil.copytree(query_db.path, db)
    item = query_db.ids[0]
    with serving(db, "--photo-queue", "1", encoder=SLOW_ENCODER) as running:
        # A filter DataFusion takes about a second to evaluate (an edit distance between two strings
        # of ~4,000 characters per row; each n makes a new filter).
        def slow_filter(n: int) -> float:
            where = f"levenshtein(repeat(productDisplayName, {130 + n}), repeat(gender, {130 + n})) > 0"
            started = time.perf_counter()
            status = running.get(f"/api/similar/{item}?where={urllib.parse.quote(where)}")[0]
            assert status == 200
            return time.perf_counter() - started

        with ThreadPoolExecutor(2) as pool:
            filters = [pool.submit(slow_filter, n) for n in range(3)]
            waits = []
            while not all(f.done() for f in filters):
                started = time.perf_counter()
                assert running.get(f"/api/similar/{item}?k=3")[0] == 200
                waits.append(time.perf_counter() - started)
                time.sleep(0.05)
            filter_seconds = min(f.result() for f in filters)
        assert filter_seconds > 0.5, "the filter was not slow enough to tell"
        assert len(waits) >= 5 and max(waits) < filter_seconds / 2, (waits, filter_seconds)

        # The photo queue: one encoding and one waiting; the rest are told when to come back.
        body, headers = multipart({"k": "3"}, {"image": ("x.jpg", photo_bytes(query_db, item))})

        def post():
            return running.get("/api/photo", data=body, headers=headers, method="POST", timeout=60)

        with ThreadPoolExecutor(5) as pool:
            answers = list(pool.map(lambda _: post(), range(5)))
        statuses = sorted(status for status, _, _ in answers)
        assert statuses.count(200) >= 2 and statuses.count(503) >= 1, statuses
        for status, answer_headers, answer in answers:
            if status == 503:
                assert int(answer_headers["retry-after"]) >= 1
                assert json.loads(answer)["error"].startswith("busy: ")
        text = running.get("/metrics")[2].decode()
        assert metric(text, "catalog_photo_encodes_refused_total") == statuses.count(503)
        assert metric(text, "catalog_photo_encodes_in_flight") == 0

        # The database goes away: the server still answers from memory, and /healthz says what is wrong.
        assert running.get("/healthz")[0] == 200
        shutil.rmtree(db)
        status, _, body = running.get("/healthz")
        assert status == 503 and json.loads(body)["status"] == "unavailable"
        assert json.loads(body)["error"].startswith("cannot read the database")
        assert running.get(f"/api/similar/{item}")[0] == 200


def strict(schema):
    """The schema with every object closed (`additionalProperties: false` where properties are
    listed): a key a real answer has and the document does not declare fails too."""
    schema = copy.deepcopy(schema)

    def close(node):
        if isinstance(node, dict):
            if "properties" in node and "additionalProperties" not in node:
                node["additionalProperties"] = False
            for value in node.values():
                close(value)
        elif isinstance(node, list):
            for value in node:
                close(value)

    close(schema)
    return schema


def test_real_answers_validate_against_the_published_schema(server, query_db):  # noqa: F811
    spec = json.loads(server.get("/api/openapi.json")[2])
    components = strict(spec["components"])

    def check(method: str, path: str, status: int, document) -> None:
        template = next(p for p in spec["paths"] if re.fullmatch(re.sub(r"\{\w+\}", r"[^/]+", p), path))
        response = spec["paths"][template][method]["responses"][str(status)]
        schema = response["content"]["application/json"]["schema"]
        assert schema, f"{method} {template} {status} has an empty schema"
        jsonschema.validate(document, {**strict(schema), "components": components})

    item, photo = query_db.ids[0], photo_bytes(query_db, query_db.ids[1])
    for path in (
        f"/api/similar/{item}",
        f"/api/similar/{item}?space=all&k=3",
        f"/api/query?id={item}&plus=black&where=gender%20%3D%20%27Men%27",
        f"/api/query?id={item}&id={query_db.ids[1]}",
        f"/api/infer?id={item}",
        f"/api/products/{item}",
        f"/api/products/{query_db.no_photo_id}",
        "/api/products?gender=Men&per_page=5",
        "/api/attributes",
        "/api/info",
        "/api/history",
    ):
        status, _, body = server.get(path)
        assert status == 200, path
        check("get", path.split("?")[0], 200, json.loads(body))
    for path, fields in (("/api/query", {"plus": "black"}), ("/api/infer", {"top": "2"}), ("/api/photo", {"k": "2"})):
        body, headers = multipart(fields, {"image": ("x.jpg", photo)})
        status, _, answer = server.get(path, data=body, headers=headers, method="POST")
        assert status == 200, path
        check("post", path, 200, json.loads(answer))
        # The multipart form is declared: the file field and the others, each with its type.
        form = spec["paths"][path]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
        assert form["required"] == ["image"] and form["properties"]["image"]["format"] == "binary"
        assert set(fields) <= set(form["properties"])
    for path, status in ((f"/api/similar/{item}?k=0", 400), ("/api/products/999999999", 404)):
        answer_status, _, body = server.get(path)
        assert answer_status == status
        check("get", path.split("?")[0], status, json.loads(body))


def test_the_library_writes_nothing_to_stderr(query_db):  # noqa: F811
    """similar (every space, ties fetched past k) and query (arithmetic, filters) from Python, as a
    notebook would call them: no LanceDB or Rust warning on stderr, nothing printed at all."""
    script = f"""
from catalog import Catalog
catalog = Catalog({str(query_db.path)!r})
ids = {query_db.ids[:15]!r}
for product in ids:
    for space in ("rec", "image", "graph", "all"):
        catalog.similar(product, k=20, space=space)
    catalog.query(ids=[product], plus="black", minus="topwear", where="gender = 'Men' OR gender = 'Women'")
    catalog.query(ids=[product], k=3)
catalog.info(); catalog.history(); catalog.attributes("colour")
"""
    env = {k: v for k, v in os.environ.items() if k not in ("LANCEDB_LOG", "RUST_LOG")}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "" and result.stdout == ""


def test_cached_model_files_are_checked_against_their_hash(s3_bucket, tmp_path, monkeypatch, caplog):
    """A model file fetched from an object store is cached under XDG_CACHE_HOME and checked before
    every use: a copy altered on disk is fetched again, never loaded; a fetched file that does not
    match the hash its name holds is refused."""
    from catalog.core.errors import CatalogError
    from catalog.store.storage import ObjectStorage, cache_folder

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    storage = ObjectStorage(f"s3://{s3_bucket}/cached", {})
    linker = storage.put_content_addressed("models", "linker", b"linker weights", ".npz")
    storage.write_bytes("models/head-0123456789abcdef.weights.h5", b"head weights")  # named by weights, not bytes
    for key, data in ((linker, b"linker weights"), ("models/head-0123456789abcdef.weights.h5", b"head weights")):
        path = storage.local_path(key)
        assert path.is_relative_to(cache_folder()) and path.read_bytes() == data
        assert not str(path).startswith("/tmp/catalog-models")
        path.write_bytes(b"tampered")  # what another process or a disk error could leave
        with caplog.at_level(logging.WARNING, logger="catalog"):
            again = storage.local_path(key)
        assert again.read_bytes() == data and "failed its hash check" in caplog.text
        caplog.clear()
    # The object store itself holds a file that is not what its name says: refused, not cached.
    storage.write_bytes("models/linker-00000000000000aa.npz", b"not the content the name hashes")
    with pytest.raises(CatalogError, match="does not match the hash in its name"):
        storage.local_path("models/linker-00000000000000aa.npz")
    with pytest.raises(CatalogError, match="does not match the hash in its name"):
        storage.read_bytes("models/linker-00000000000000aa.npz")  # how the linker is read: into memory


def test_a_changed_linker_file_is_refused(tmp_path, query_db):  # noqa: F811
    """A database folder whose linker file was altered: Rec refuses it (one line) instead of ranking with it."""
    from catalog import Catalog
    from catalog.core.errors import CatalogError

    db = tmp_path / "db"
    shutil.copytree(query_db.path, db)
    (linker,) = (db / "models").glob("linker-*.npz")
    linker.write_bytes(linker.read_bytes() + b"\0")
    with pytest.raises(CatalogError, match=r"models/linker-\w+\.npz in .* does not match the hash in its name"):
        Catalog(db).similar(query_db.ids[0], space="rec")


def test_no_credentials_in_any_repr(tmp_path):
    from catalog import Catalog
    from catalog.store.storage import DbLocation, ObjectStorage, open_storage
    from catalog.web.auth import TokenAuth
    from catalog.web.deps import Settings

    secrets = {"aws_access_key_id": "AKIASECRETID", "aws_secret_access_key": "s3cr3t-key", "aws_session_token": "tok3n"}
    options = {**secrets, "region": "eu-west-1", "aws_endpoint": "http://127.0.0.1:9"}
    objects = [
        DbLocation("s3://bucket/db", options),
        ObjectStorage("s3://bucket/db", options),
        open_storage(DbLocation("s3://bucket/db", options)),
        Catalog("s3://bucket/db", storage_options=options),
        Catalog(DbLocation("s3://bucket/db", options)),
        Settings(token=TOKEN),
        TokenAuth(None, TOKEN),
    ]
    for thing in objects:
        for text in (repr(thing), str(thing), f"{thing!r} {[thing]}"):
            assert not any(value in text for value in (*secrets.values(), TOKEN)), text
    assert "eu-west-1" in repr(objects[0]) and "REDACTED" in repr(objects[0])  # what is safe still shows


def test_filter_cache_keys_on_the_stripped_text(query_db):  # noqa: F811
    """A filter with spaces around it is evaluated by LanceDB once, like the same filter without them."""
    from catalog import Catalog

    catalog = Catalog(query_db.path, memory=True)
    catalog.similar(query_db.ids[0], where="gender = 'Men'")
    assert catalog.answers_from_memory("  gender = 'Men'  ")
    assert not catalog.answers_from_memory("gender = 'Women'")
    catalog.similar(query_db.ids[0], where=" gender = 'Women' ")
    assert catalog.answers_from_memory("gender = 'Women'")
