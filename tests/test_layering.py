"""Imports run one way (docs/design.md, "Layout and layering"): each module imports only its own
layer and the ones below, at module level or inside a function alike. Read from the source with
`ast`, so a lazy import that crosses a layer fails here too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# Lowest first. A module not listed here is an error: a new module must choose its layer.
LAYERS = {
    "core": {
        "catalog.columns",
        "catalog.errors",
        "catalog.keys",
        "catalog.photos",
        "catalog.photo_features",
        "catalog.vectors",
        "catalog.spaces",
        "catalog.metrics",
    },
    "models": {"catalog.encoder", "catalog.linker"},
    "read": {
        "catalog.store",
        "catalog.storage",
        "catalog.lease",
        "catalog.index",
        "catalog.filters",
        "catalog.words",
        "catalog.search",
        "catalog.browse",
        "catalog.results",
        "catalog.models",
        "catalog.snapshot",
    },
    "write": {"ingest", "ingest.*", "catalog.evaluate", "catalog.plot", "catalog.demo", "catalog.demo.*"},
    "api": {"catalog.api", "catalog"},
    "faces": {
        "catalog.cli",
        "catalog.cli_*",
        "catalog.render",
        "catalog.html",
        "catalog.__main__",
        "catalog.web",
        "catalog.web.*",
    },
}
ORDER = list(LAYERS)


def layer_of(module: str) -> str | None:
    for layer, patterns in LAYERS.items():
        for pattern in patterns:
            if module == pattern or (pattern.endswith("*") and module.startswith(pattern[:-1])):
                return layer
    return None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_imports(path: Path) -> set[str]:
    """Every catalog/ingest module this file imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # `from catalog import search` imports catalog.search; `from catalog.x import y` imports catalog.x
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        else:
            continue
        for name in names:
            while name and layer_of(name) is None and "." in name:
                name = name.rsplit(".", 1)[0]
            if name.split(".")[0] in ("catalog", "ingest"):
                found.add(name)
    return found


SOURCES = sorted([*REPO.joinpath("catalog").rglob("*.py"), *REPO.joinpath("ingest").rglob("*.py")])


@pytest.mark.parametrize("path", SOURCES, ids=[str(p.relative_to(REPO)) for p in SOURCES])
def test_imports_run_one_way(path):
    module = module_name(path)
    mine = layer_of(module)
    assert mine is not None, f"{module} belongs to no layer in tests/test_layering.py (and docs/design.md)"
    for imported in project_imports(path):
        theirs = layer_of(imported)
        if imported == "catalog" and mine != "api":
            continue  # `from catalog import x` names a submodule, resolved above
        assert theirs is not None, f"{module} imports {imported}, which belongs to no layer"
        assert ORDER.index(theirs) <= ORDER.index(mine), (
            f"{module} ({mine}) imports {imported} ({theirs}): imports run core <- models <- read <- write <- api <- faces"
        )


def test_the_read_side_never_imports_ingest():
    read = [p for p in SOURCES if layer_of(module_name(p)) in ("core", "models", "read")]
    assert len(read) >= 15
    offenders = {module_name(p): sorted(i for i in project_imports(p) if i.startswith("ingest")) for p in read}
    assert not {m: i for m, i in offenders.items() if i}


def test_the_checker_sees_a_lazy_import(tmp_path):
    # the check itself must catch an import hidden in a function body
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from ingest.pipeline import ingest\n    return ingest\n")
    assert [name for name in project_imports(sample) if name.startswith("ingest.pipeline")]
