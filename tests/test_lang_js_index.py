"""JS/TS/TSX through the real indexer: the fixture's exact edges from the store, anchors written
into the files, and the identity rules (move, copy, rename, prettier)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from remora_core.config import IndexConfig
from remora_core.index.indexer import Indexer
from remora_core.store.store import Store
from tests.lang_js_helpers import FIXTURES, js_files, parse_file, prettier
from tests.test_edges import edges, labels
from tests.test_lang_js import EXPECTED_CALLS, EXPECTED_IMPORTS, EXPECTED_NODES


def _index(root: Path, inject: bool = True) -> None:
    store = Store.open(root)
    try:
        report = Indexer(root, store, IndexConfig(inject=inject)).index()
    finally:
        store.close()
    assert report.errors == []


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "lang_js"
    shutil.copytree(FIXTURES / "lang_js", root)
    _index(root)
    return root


def _ids(root: Path) -> dict[str, str]:
    """label -> node id of the active nodes."""
    return {label: node_id for node_id, label in labels(root).items() if not label.endswith("[orphaned]")}


def test_index_writes_anchors_and_stores_the_exact_edges(project: Path) -> None:
    assert set(edges(project, "calls")) == EXPECTED_CALLS
    assert set(edges(project, "imports")) == EXPECTED_IMPORTS
    assert "src/lib/ambient.d.ts" not in set(labels(project).values())  # declaration files are not indexed
    for path in js_files(project):
        parsed = parse_file(path, (project / path).read_bytes())
        assert parsed.file_anchor is not None, path
        assert [(d.node_type, d.qualname) for d in parsed.defs] == [
            (t, q) for t, q, _ in EXPECTED_NODES[path]
        ]
        assert all(d.anchor is not None for d in parsed.defs), path
    before = {path: (project / path).read_bytes() for path in js_files(project)}
    _index(project)  # nothing left to do
    assert {path: (project / path).read_bytes() for path in js_files(project)} == before


def test_moved_function_keeps_its_id_copy_gets_a_new_one_rename_orphans(project: Path) -> None:
    ids = _ids(project)
    util = project / "legacy/util.cjs"
    text = util.read_text()
    start = text.index("function helper")
    end = text.index("}\n", start) + 2
    helper = text[start:end]
    util.write_text(text[:start] + text[end:])
    greet = project / "legacy/greet.js"
    greet.write_text(greet.read_text() + "\n" + helper)  # moved, anchor and all
    math = project / "src/lib/math.ts"
    add = math.read_text().split("\n\n")[0].split("\n", 1)[1]  # `export function add ...` with its anchor
    math.write_text(math.read_text() + "\n" + add.replace("function add", "function addAgain") + "\n")
    shapes = project / "src/lib/shapes.ts"
    shapes.write_text(
        shapes.read_text().replace("function sealed", "function frozen").replace("@sealed", "@frozen")
    )
    _index(project)
    after = _ids(project)
    assert after["legacy/greet.js:helper"] == ids["legacy/util.cjs:helper"]
    assert after["src/lib/math.ts:add"] == ids["src/lib/math.ts:add"]
    assert after["src/lib/math.ts:addAgain"] not in ids.values()  # a copy gets a new id
    assert after["src/lib/shapes.ts:frozen"] != ids["src/lib/shapes.ts:sealed"]
    assert labels(project)[ids["src/lib/shapes.ts:sealed"]].endswith("[orphaned]")
    assert ("legacy/util.cjs:double", "legacy/greet.js:helper") not in edges(project, "calls")


@pytest.mark.slow
def test_ids_survive_prettier_write(project: Path) -> None:
    tool = prettier()
    if tool is None:
        pytest.skip("prettier is not installed (REMORA_PRETTIER)")
    ids = _ids(project)
    files = js_files(project)
    subprocess.run(
        [tool, "--write", "--print-width", "50", "--tab-width", "4", *files],
        cwd=project,
        check=True,
        capture_output=True,
    )
    _index(project)
    assert _ids(project) == ids
