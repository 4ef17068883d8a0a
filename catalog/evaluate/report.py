"""The eval document: what a `catalog eval` run returns, prints with --json, and saves beside the
tables for `catalog plot eval` to draw without measuring again."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from catalog.core.errors import CatalogError

EVAL_FILE = "eval.json"


@dataclass
class Evaluation:
    """One eval run; `document()` is the --json output and what `catalog plot eval` draws."""

    k: int
    holdout: int  # held-out products (queried as new photos)
    in_sample: int  # products the graph and linker were rebuilt on
    precision: dict[str, dict[str, float]]  # space -> column -> precision@k
    ndcg: dict[str, float]  # space -> nDCG@k
    linker: dict
    arithmetic: dict
    inference: dict[str, float]  # column -> top-1 accuracy
    inference_majority: dict[str, float]  # column -> accuracy of always guessing the commonest value
    settings: dict  # seed, holdout share, run, node2vec and linker parameters
    seconds: dict[str, float]
    held_out_ids: list[int]
    saved_to: Path | str | None = None  # where `Catalog.evaluate` saved the document for `catalog plot eval`
    save_error: str | None = None  # why it could not (a read-only database still gets its figures)

    def document(self) -> dict:
        """Plain JSON: no NaN (a metric with nothing to score is null), no held-out id list."""
        doc = asdict(self)
        for name in ("held_out_ids", "saved_to", "save_error"):
            del doc[name]
        return _without_nan(doc)

    def to_dict(self) -> dict:
        """What `catalog eval --json` prints (the same as `document()`)."""
        return self.document()


def _without_nan(value):
    if isinstance(value, dict):
        return {key: _without_nan(v) for key, v in value.items()}
    if isinstance(value, float) and value != value:
        return None
    return value


def _storage(database):
    """A Store's location, or that of a database path, URI or DbLocation."""
    from catalog.store.storage import open_storage

    return database.storage if hasattr(database, "storage") else open_storage(database)


def save_evaluation(database, document: dict) -> Path | str:
    """Write the eval document beside the tables (whole or not at all, replacing the previous one).

    `database`: a Store, or a database path, URI or DbLocation. Returns where it went."""
    storage = _storage(database)
    storage.write_bytes(EVAL_FILE, json.dumps(document, indent=1).encode())
    return storage.root / EVAL_FILE if storage.is_local else f"{storage}/{EVAL_FILE}"


def load_evaluation(database) -> dict:
    storage = _storage(database)
    where = f"{storage}/{EVAL_FILE}"
    try:
        document = json.loads(storage.read_bytes(EVAL_FILE))
    except FileNotFoundError:
        raise CatalogError(f"no eval run saved in {storage} (run `catalog eval` first)") from None
    except (OSError, ValueError) as error:
        raise CatalogError(f"cannot read {where}: {error}") from None
    if not isinstance(document, dict) or "precision" not in document:
        raise CatalogError(f"{where} is not a `catalog eval` result")
    return document
