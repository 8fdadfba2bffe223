"""The per-save path at scale: the inverted indexes behind "who may resolve differently now"
(``index/word_index.py``, ``SymbolTable.mentioning`` / ``import_dependents`` / ``through_bases``)
and the early stop of the importer walk must give the edges of a fresh index."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from remora_core.config import IndexConfig
from remora_core.index.indexer import Indexer
from remora_core.index.word_index import WordIndex
from remora_core.store.store import Store
from tests.test_resolution import (
    GRAPH_FIXTURE,
    _edge_state,
    _fresh_edge_state,
    _random_interface_edit,
    _random_structure_edit,
    call_edges,
)


def test_word_index_follows_changed_keys() -> None:
    table = {"a": {"x", "y"}, "b": {"y"}}
    index = WordIndex(lambda key: table.get(key))
    assert index.lookup(["y"], lambda: table) == {"a", "b"}
    table["a"] = {"z"}
    index.changed("a")
    del table["b"]
    index.changed("b")
    table["c"] = {"x"}
    index.changed("c")
    assert index.lookup(["y"], lambda: table) == set()
    assert index.lookup(["x", "z"], lambda: table) == {"a", "c"}


def _hub_indexer(root: Path) -> tuple[Store, Indexer]:
    """A second indexer on an indexed project, warmed up the way the hub does it."""
    Indexer(root, Store.open(root), IndexConfig(inject=False)).index()
    store = Store.open(root)
    indexer = Indexer(root, store, IndexConfig(inject=False))
    indexer.load_symbols()
    assert indexer.symbols is not None
    indexer.symbols.build_indexes()
    return store, indexer


@pytest.mark.parametrize("seed", range(2))
def test_prebuilt_indexes_give_the_edges_of_a_fresh_index(tmp_path: Path, seed: int) -> None:
    """Interface and package-structure edits through an indexer whose inverted indexes and
    module map were built before the first edit (the hub): edges equal a fresh index's."""
    rng = random.Random(100 + seed)
    live = tmp_path / "live"
    shutil.copytree(GRAPH_FIXTURE, live)
    store, indexer = _hub_indexer(live)
    names = ["main", "run", "helper", "load", "Base", "render"]
    for number in range(16):
        paths = [_random_interface_edit(live, rng, names)] if number % 2 else _random_structure_edit(live, rng)
        if not paths:
            continue
        indexer.index(paths=paths, totals=False)
        assert _edge_state(live) == _fresh_edge_state(live, tmp_path / f"fresh-{number}"), (
            f"edit {number}: {paths} (seed {seed})"
        )
    store.close()


def test_an_importer_beyond_the_direct_ones_that_spells_a_new_name_is_updated(project) -> None:  # type: ignore[no-untyped-def]
    """``far.py`` reaches lib.py only through a package's re-export, and ``near.py`` imports
    it directly: when lib.py gains the name both call, the walk must go past the direct
    importers to find far.py; a file naming nothing new is not re-resolved."""
    root = project(
        {
            "lib.py": "def f():\n    return 1\n",
            "pkg/__init__.py": "from lib import *\n",
            "near.py": "import lib\n\ndef n():\n    return lib.g()\n",
            "far.py": "import pkg\n\ndef r():\n    return pkg.g()\n",
            "other.py": "import lib\n\ndef o():\n    return lib.f()\n",
        }
    )
    store, indexer = _hub_indexer(root)
    assert indexer.symbols is not None
    resolved: list[str] = []
    original = indexer.symbols.resolve_file

    def spy(path: str):  # type: ignore[no-untyped-def]
        resolved.append(path)
        return original(path)

    indexer.symbols.resolve_file = spy  # type: ignore[method-assign]
    (root / "lib.py").write_text("def f():\n    return 1\n\n\ndef g():\n    return 2\n")
    indexer.index(paths=["lib.py"], totals=False)
    assert sorted(resolved) == ["far.py", "lib.py", "near.py"]
    assert {("near.py:n", "lib.py:g"), ("far.py:r", "lib.py:g"), ("other.py:o", "lib.py:f")} <= call_edges(root)
    resolved.clear()
    (root / "lib.py").write_text("def f():\n    return 1\n\n\ndef g():\n    return 2\n\n\ndef unused():\n    return 3\n")
    indexer.index(paths=["lib.py"], totals=False)
    assert resolved == ["lib.py"]  # nobody spells ``unused``: no importer walk at all
    (root / "lib.py").write_text("def f():\n    return 1\n")
    indexer.index(paths=["lib.py"], totals=False)
    store.close()
    assert {edge for edge in call_edges(root) if edge[1] == "lib.py:g"} == set()
