"""One read-only database shared by the query-side tests (search, browse, html), built once per session.

The demo catalog with one product renamed to carry markup and quotes, ingested with the fake
encoder. The tests only read it, so one build serves test_search, test_browse and test_html.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import FAKE_ENCODER, FAST_INGEST
from tests.conftest import run_cli as run

EVIL_NAME = """Evil <script>alert('x')</script> "Tee" & <b>co</b>"""


@dataclass(frozen=True)
class QueryDB:
    path: Path
    images_dir: Path
    evil_id: int  # the product whose name is markup
    ids: list[int]  # products with a photo
    no_photo_id: int  # a product without one


@pytest.fixture(scope="session")
def query_db(tmp_path_factory, demo_catalog) -> QueryDB:
    # The session's base folder, not a fresh one: every module importing this fixture gets its
    # own fixture definition, and this way they share one build.
    root = tmp_path_factory.getbasetemp() / "query-db"
    db = root / "db"
    lines = demo_catalog.csv_path.read_text(encoding="utf-8").splitlines()
    row = next(n for n, line in enumerate(lines[1:], 1) if line.count(",") == 9)
    fields = lines[row].split(",")
    evil_id = int(fields[0])
    if not db.exists():
        root.mkdir(exist_ok=True)
        fields[9] = '"' + EVIL_NAME.replace('"', '""') + '"'
        lines[row] = ",".join(fields)
        csv_path = root / "styles.csv"
        csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("CATALOG_ENCODER", FAKE_ENCODER)
            run("ingest", "--csv", csv_path, "--images", demo_catalog.images_dir, "--db", db, *FAST_INGEST)
    present = {int(p.stem) for p in demo_catalog.images_dir.glob("*.jpg")}
    ids = [int(line.split(",", 1)[0]) for line in lines[1:]]
    return QueryDB(
        db, demo_catalog.images_dir, evil_id, [i for i in ids if i in present], next(i for i in ids if i not in present)
    )
