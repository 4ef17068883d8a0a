"""Imports run one way (docs/design.md, "Layout and layering").

The layers and the "never" rules are import-linter contracts in pyproject.toml, run by .ci/run
(`lint-imports`) and here, on the real tree and on copies of it with one deliberately wrong import,
so a contract that stopped catching anything fails this file. Two checks the linter cannot express
stay here: no circle among module-level imports (import-linter sees every import, lazy ones in
function bodies too, and its acyclic contract compares sibling packages, not modules), and the
number of modules that stand directly in catalog/.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

REPO = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """import-linter on the tree at `root` (its pyproject.toml's contracts, its own packages first on the path)."""
    environment = {**os.environ, "PYTHONPATH": str(root)}
    command = [str(LINT_IMPORTS), "--no-cache"]
    return subprocess.run(command, cwd=root, env=environment, capture_output=True, text=True, timeout=300)


def tree_copy(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    for package in ("catalog", "ingest"):
        shutil.copytree(REPO / package, root / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


def test_the_contracts_hold():
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 4 kept, 0 broken." in result.stdout


# One wrong import per rule, each where a careless edit would put it; the broken contract it must trip.
WRONG_IMPORTS = {
    "core imports the read side": (
        "catalog/core/vectors.py",
        "from catalog.query.search import nearest\n",
        "Core imports nothing of the project",
    ),
    "a lazy import of ingest/ on the read side": (
        "catalog/query/browse.py",
        "def _sneaky():\n    from ingest.pipeline import ingest\n    return ingest\n",
        "The read side never imports the write side",
    ),
    "ingest/ reaches back into the facade": (
        "ingest/graph.py",
        "import catalog  # runs catalog/__init__.py, which imports catalog.api\n",
        "Nothing below Catalog imports it or the faces",
    ),
    "the library imports a face": (
        "catalog/api.py",
        "from catalog.cli import render\n",
        "Imports run one way",
    ),
    "the web app imports the CLI": (
        "catalog/web/app.py",
        "from catalog.cli.options import reporter\n",
        "Imports run one way",
    ),
}


@pytest.mark.parametrize("case", list(WRONG_IMPORTS))
def test_a_wrong_import_breaks_a_contract(tmp_path, case):
    relative, line, contract = WRONG_IMPORTS[case]
    root = tree_copy(tmp_path)
    module = root / relative
    module.write_text(module.read_text() + "\n" + line)
    result = lint_imports(root)
    assert result.returncode != 0, result.stdout
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken, result.stdout


def module_name(path: Path, root: Path = REPO) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def module_level_imports(path: Path, known: set[str], root: Path = REPO) -> set[str]:
    """The project modules `path` imports when it is loaded: statements in the module body only (an
    import inside a function runs later, so it cannot close a circle at load time)."""
    found = set()
    own = module_name(path, root)
    package = own.rsplit(".", 1)[0] if path.name != "__init__.py" else own
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for name in names:
            while name and name not in known and "." in name:
                name = name.rsplit(".", 1)[0]
            if name in known:
                found.add(name)
    return found


def import_graph(root: Path) -> nx.DiGraph:
    sources = [*root.joinpath("catalog").rglob("*.py"), *root.joinpath("ingest").rglob("*.py")]
    known = {module_name(p, root) for p in sources}
    graph = nx.DiGraph()
    for path in sources:
        graph.add_node(module_name(path, root))
        for imported in module_level_imports(path, known, root):
            graph.add_edge(module_name(path, root), imported)
    return graph


def test_no_circle_among_module_level_imports():
    graph = import_graph(REPO)
    assert graph.number_of_nodes() > 60
    circles = list(nx.simple_cycles(graph))
    assert not circles, f"module-level import circles: {circles}"


def test_the_circle_check_sees_a_circle(tmp_path):
    root = tree_copy(tmp_path)
    # catalog.core.keys is imported by catalog.core.columns at module level; closing the loop must show
    keys = root / "catalog/core/keys.py"
    keys.write_text(keys.read_text() + "\nfrom catalog.core.columns import ATTRIBUTE_COLUMNS\n")
    assert any({"catalog.core.keys", "catalog.core.columns"} <= set(c) for c in nx.simple_cycles(import_graph(root)))


def test_the_package_shows_its_layers():
    """At most a dozen modules stand directly in catalog/: the rest live in a package named after its layer."""
    top = sorted(p.name for p in (REPO / "catalog").glob("*.py"))
    assert len(top) <= 12, top
    assert set(top) == {"__init__.py", "__main__.py", "api.py", "results.py"}
