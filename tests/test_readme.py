"""The README's examples run as written, in the folder where `catalog demo` ran.

Every line of a README code block that starts with `catalog ` runs in order (a block after a
`<!-- not run ... -->` comment is skipped, and says why); every ```python block of the "Python
API" section runs in order too. The demo is built once per module with the real Keras encoder
(`--weights random`) at 32 pixels and a small count; each test works on its own copy of it.
`catalog demo` lines in the README get the same speed options appended.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import shutil
from pathlib import Path

import pytest

from tests.conftest import run_cli

README = Path(__file__).resolve().parent.parent / "README.md"
FAST_DEMO = ["--count", "100", "--image-size", "32", "--walks", "10"]


def code_blocks(text: str) -> list[tuple[str, str, str, bool]]:
    """(section heading, language, code, skipped) of every fenced block, in order."""
    blocks, heading = [], ""
    pattern = re.compile(r"^(#+ [^\n]*)$|^(<!-- not run[^>]*-->\n)?```(\w*)\n(.*?)^```", re.M | re.S)
    for match in pattern.finditer(text):
        if match.group(1):
            heading = match.group(1)
            continue
        blocks.append((heading, match.group(3), match.group(4), bool(match.group(2))))
    return blocks


def command_lines() -> list[str]:
    return [
        line.strip()
        for _, language, code, skipped in code_blocks(README.read_text())
        if not language and not skipped
        for line in code.splitlines()
        if line.startswith("catalog ")
    ]


def python_blocks() -> list[str]:
    return [
        code
        for heading, language, code, _ in code_blocks(README.read_text())
        if language == "python" and heading == "## Python API"
    ]


@contextlib.contextmanager
def inside(folder: Path):
    previous = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(previous)


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory):
    """A folder after `catalog demo` (real Keras, random weights, 32-px photos, 100 products)."""
    folder = tmp_path_factory.mktemp("readme")
    with inside(folder), pytest.MonkeyPatch.context() as patch:
        patch.delenv("CATALOG_ENCODER", raising=False)
        patch.delenv("CATALOG_DB", raising=False)
        run_cli("demo", *FAST_DEMO)
    return folder


@pytest.fixture
def workdir(demo_folder, tmp_path, monkeypatch):
    copy = tmp_path / "here"
    shutil.copytree(demo_folder, copy)
    monkeypatch.delenv("CATALOG_ENCODER", raising=False)
    monkeypatch.delenv("CATALOG_DB", raising=False)
    with inside(copy):
        yield copy


def test_the_readme_has_examples_to_run():
    lines = command_lines()
    assert len(lines) >= 35 and len(python_blocks()) >= 3
    assert not any("fashion-dataset" in line for line in lines)  # the Kaggle block is marked as not run


def test_every_catalog_line_runs_on_the_demo_catalog(workdir):
    for line in command_lines():
        words = shlex.split(line, comments=True)[1:]
        target = None
        if ">" in words:  # `... --csv > results.csv`
            at = words.index(">")
            words, target = words[:at], words[at + 1]
        if words[0] == "demo":
            words += FAST_DEMO
        result = run_cli(*words, ok=False)
        assert result.exit_code == 0, f"{line}\n{result.output}"
        if target:
            Path(target).write_text(result.stdout)
    assert Path("similar.html").is_file() and Path("results.csv").read_text().startswith("rank,id,score")
    assert Path("eval.png").is_file() and Path("evaldemo/db").is_dir()


def test_the_python_api_section_runs(workdir):
    namespace: dict = {"__name__": "readme"}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for code in python_blocks():
            exec(compile(code, "README.md", "exec"), namespace)
    assert "Sweatshirts" in printed.getvalue()
    assert namespace["mine"].info().encoder["id"] == "colour-histogram-64"
