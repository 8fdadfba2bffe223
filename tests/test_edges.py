"""Exact ``calls`` / ``imports`` edge sets of a hand-written project (tests/fixtures/graph_project).

Every expected edge below was written by hand from reading the fixture; a missing or an
extra edge fails with a readable diff of ``(from, to)`` labels. A node is labelled
``path:qualname`` (a file node by its path alone).
"""

from __future__ import annotations

import json
import os
import shutil
from collections import defaultdict
from pathlib import Path

import pytest

from remora_core.cli import main as cli_main
from remora_core.config import IndexConfig
from remora_core.index.indexer import Indexer
from remora_core.store.store import Store

FIXTURE = Path(__file__).parent / "fixtures" / "graph_project"

Edge = tuple[str, str]

INIT = "app/__init__.py"
UTIL = "app/util/__init__.py"
HELPERS = "app/util/helpers.py"
TEXTOPS = "app/util/textops.py"
SHORTEN = "app/util/shorten.py"
CORE = "app/core/__init__.py"
BASE = "app/core/base.py"
MODELS = "app/core/models.py"
ENGINE = "app/core/engine.py"
CLI = "app/cli.py"
MAIN = "main.py"
LOADER = "plugins/loader.py"  # plugins/ is a namespace package (no __init__.py)
EXTRA = "app/util/extra.py"  # does not exist at first: added by the incremental test

EXPECTED_IMPORTS: list[Edge] = sorted(
    [
        # ``from .core.models import Model``; ``from .util import helpers`` (a submodule) and
        # ``from .util.helpers import slugify as make_slug`` both land on helpers.py.
        (INIT, MODELS),
        (INIT, HELPERS),
        (UTIL, HELPERS),
        (UTIL, TEXTOPS),
        (UTIL, SHORTEN),
        (SHORTEN, HELPERS),
        # helpers.py imports only the stdlib (os.path, re): no edge.
        (TEXTOPS, HELPERS),
        (CORE, BASE),  # from .base import *
        # ``if TYPE_CHECKING: from app.core.models import Model`` still is an import.
        (BASE, MODELS),
        (MODELS, TEXTOPS),  # import app.util.textops as tops
        (MODELS, HELPERS),  # from ..util import helpers as h
        (MODELS, BASE),
        (ENGINE, HELPERS),  # import app.util.helpers (deepest module) + from ..util.helpers import ...
        (ENGINE, MODELS),  # from . import models + from .models import ...
        (CLI, BASE),  # import app.core.base
        (CLI, INIT),  # from app import Model, make_slug
        (CLI, ENGINE),  # from app.core import engine (a submodule)
        # ``from app.util import slugify, yell`` and ``from app.util import shorten``: the
        # package binds the name ``shorten`` to the function, so not to the submodule.
        (CLI, UTIL),
        (CLI, TEXTOPS),
        (CLI, MODELS),  # TYPE_CHECKING import
        # ``from app.util.extra import enrich``: no such module yet, no edge.
        (MAIN, CORE),  # import app.core as core
        (MAIN, ENGINE),  # import app.core.engine as eng
        (MAIN, UTIL),  # import app.util
        (MAIN, LOADER),  # import plugins.loader
        (MAIN, CLI),
        (MAIN, TEXTOPS),  # from app.util.textops import *
    ]
)


def n(path: str, qualname: str) -> str:
    return f"{path}:{qualname}"


EXPECTED_CALLS: list[Edge] = sorted(
    [
        # helpers.py
        (n(HELPERS, "slugify"), n(HELPERS, "_strip")),
        (n(HELPERS, "process"), n(HELPERS, "slugify")),
        (n(SHORTEN, "shorten"), n(HELPERS, "slugify")),
        # textops.py
        (n(TEXTOPS, "shout"), n(HELPERS, "slugify")),
        (n(TEXTOPS, "process"), n(TEXTOPS, "shout")),  # its own shout, not cli.shout
        # base.py: a bare ``validate`` inside a method is the module-level function.
        (n(BASE, "Base.check"), n(BASE, "validate")),
        (n(BASE, "Base.save"), n(BASE, "Base.validate")),
        (n(BASE, "Base.save"), n(BASE, "persist")),
        # models.py
        (n(MODELS, "Model.save"), n(BASE, "Base.validate")),  # inherited, via self
        (n(MODELS, "Model.save"), n(BASE, "Base.save")),  # super()
        (n(MODELS, "Model.save"), n(MODELS, "Model.finish")),
        (n(MODELS, "Model.finish"), n(BASE, "persist")),  # persist as store
        (n(MODELS, "Model.create"), n(BASE, "Base.make")),  # cls.make, inherited
        (n(MODELS, "Model.create"), n(HELPERS, "slugify")),  # h.slugify, h = module alias
        (n(MODELS, "Model.label"), n(TEXTOPS, "shout")),  # tops.shout
        (n(MODELS, "Special.save"), n(MODELS, "Model.save")),  # super(): the nearest base
        (n(MODELS, "Special.save"), n(BASE, "Base.validate")),  # two levels up
        (n(MODELS, "Special.save"), n(MODELS, "Model.label")),
        # engine.py
        (n(ENGINE, "process"), n(HELPERS, "slugify")),  # slugify as slug
        (n(ENGINE, "run"), n(ENGINE, "process")),  # its own process
        (n(ENGINE, "run"), n(HELPERS, "process")),  # app.util.helpers.process
        (n(ENGINE, "run"), n(MODELS, "Model")),  # calling a class -> the class node
        (n(ENGINE, "run"), n(MODELS, "Model.create")),  # Special.create, inherited
        (n(ENGINE, "run"), n(BASE, "Base.make")),  # Model.make, inherited
        (n(ENGINE, "pipeline"), n(ENGINE, "pipeline.step")),
        (n(ENGINE, "pipeline"), n(ENGINE, "run")),
        (n(ENGINE, "pipeline.step"), n(ENGINE, "pipeline.normalize")),  # sibling in enclosing scope
        (n(ENGINE, "pipeline.normalize"), n(HELPERS, "slugify")),  # module-level import
        # cli.py
        (n(CLI, "main"), n(HELPERS, "slugify")),  # make_slug (app/__init__) and slugify (app/util)
        (n(CLI, "main"), n(TEXTOPS, "shout")),  # yell, re-exported by app/util/__init__.py
        (n(CLI, "main"), n(CLI, "shout")),  # the local shout shadows the imported one
        (n(CLI, "main"), n(SHORTEN, "shorten")),  # shorten as shorten_text: the function
        (n(CLI, "main"), n(MODELS, "Model")),  # re-exported by app/__init__.py
        (n(CLI, "main"), n(ENGINE, "run")),
        (n(CLI, "main"), n(TEXTOPS, "process")),  # process as text_process
        (n(CLI, "main"), n(BASE, "persist")),  # import app.core.base; app.core.base.persist()
        # main.py
        (n(MAIN, "entry"), n(CLI, "main")),
        (n(MAIN, "entry"), n(ENGINE, "pipeline")),
        (n(MAIN, "entry"), n(BASE, "validate")),
        (n(MAIN, "entry"), n(SHORTEN, "shorten")),
        (n(MAIN, "entry"), n(LOADER, "load")),
        (n(MAIN, "entry"), n(TEXTOPS, "process")),
        (n(MAIN, "entry"), n(HELPERS, "slugify")),
    ]
)

# Callers that legitimately reach every definition of a name (through different call sites).
ALL_DEFINITIONS_OK = {(n(CLI, "main"), "shout")}  # yell() and the local shout()


# -- helpers ---------------------------------------------------------------------------
def copy_fixture(tmp_path: Path) -> Path:
    root = tmp_path / "graph_project"
    shutil.copytree(FIXTURE, root, ignore=shutil.ignore_patterns("__pycache__", ".remora"))
    return root


def run_index(root: Path) -> None:
    store = Store.open(root)
    try:
        report = Indexer(root, store, IndexConfig(inject=False)).index()
    finally:
        store.close()
    assert report.errors == []


def labels(root: Path) -> dict[str, str]:
    """Node id -> label, orphaned nodes included (a stale edge must still be readable)."""
    store = Store.open(root)
    try:
        rows = store.connection.execute(
            "SELECT id, node_type, qualname, file_path, status FROM nodes"
        ).fetchall()
    finally:
        store.close()
    found: dict[str, str] = {}
    for node_id, node_type, qualname, file_path, status in rows:
        label = file_path if node_type == "file" else n(file_path, qualname)
        found[node_id] = label if status == "active" else f"{label} [orphaned]"
    return found


def edges(root: Path, edge_type: str) -> list[Edge]:
    names = labels(root)
    store = Store.open(root)
    try:
        rows = store.connection.execute(
            "SELECT from_id, to_id FROM edges WHERE edge_type = ?", (edge_type,)
        ).fetchall()
    finally:
        store.close()
    return sorted((names.get(source, source), names.get(target, target)) for source, target in rows)


def definitions(root: Path) -> dict[str, list[str]]:
    """Name -> labels of every active definition with that name."""
    store = Store.open(root)
    try:
        rows = store.connection.execute(
            "SELECT name, qualname, file_path FROM nodes WHERE status = 'active' AND node_type != 'file'"
        ).fetchall()
    finally:
        store.close()
    found: dict[str, list[str]] = defaultdict(list)
    for name, qualname, file_path in rows:
        found[name].append(n(file_path, qualname))
    return found


def assert_edges(actual: list[Edge], expected: list[Edge]) -> None:
    """Exact equality, reported as the missing and the extra edges."""
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    if missing or extra:
        report = [f"missing  {source}  ->  {target}" for source, target in missing]
        report += [f"extra    {source}  ->  {target}" for source, target in extra]
        pytest.fail("edges differ from the hand-written set:\n" + "\n".join(report), pytrace=False)
    assert actual == sorted(expected)  # and no duplicates


def touch_later(path: Path) -> None:
    """Make sure the indexer sees a new mtime even on coarse-grained file systems."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))


@pytest.fixture
def indexed(tmp_path: Path) -> Path:
    root = copy_fixture(tmp_path)
    run_index(root)
    return root


# -- tests -----------------------------------------------------------------------------
def test_fixture_is_copied_outside_the_repo(indexed: Path) -> None:
    assert not (FIXTURE / ".remora").exists()
    assert (indexed / ".remora").is_dir()


def test_calls_edges_are_exact(indexed: Path) -> None:
    assert_edges(edges(indexed, "calls"), EXPECTED_CALLS)


def test_imports_edges_are_exact(indexed: Path) -> None:
    assert_edges(edges(indexed, "imports"), EXPECTED_IMPORTS)


def test_edge_counts(indexed: Path) -> None:
    """The index holds exactly the expected number of edges (the stored rows, and the totals an
    index pass reports), not only the same set."""
    store = Store.open(indexed)
    try:
        report = Indexer(indexed, store, IndexConfig(inject=False)).index()
    finally:
        store.close()
    stored = (len(edges(indexed, "calls")), len(edges(indexed, "imports")))
    assert stored == (report.edges["calls"], report.edges["imports"]) == (43, 26)
    assert (len(EXPECTED_CALLS), len(EXPECTED_IMPORTS)) == stored


def test_no_call_links_every_node_sharing_a_name(indexed: Path) -> None:
    by_name = definitions(indexed)
    callees: dict[str, set[str]] = defaultdict(set)
    for caller, callee in edges(indexed, "calls"):
        callees[caller].add(callee)
    shared = {name: set(found) for name, found in by_name.items() if len(found) > 1}
    assert {"process", "shout", "save", "validate"} <= set(shared)
    offenders = sorted(
        (caller, name)
        for caller, targets in callees.items()
        for name, found in shared.items()
        if found <= targets and (caller, name) not in ALL_DEFINITIONS_OK
    )
    assert offenders == []


def test_cli_index_gives_the_same_edges(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = copy_fixture(tmp_path)
    assert cli_main(["index", str(root), "--no-inject", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["edges"]["calls"] == len(EXPECTED_CALLS)
    assert report["edges"]["imports"] == len(EXPECTED_IMPORTS)
    assert_edges(edges(root, "calls"), EXPECTED_CALLS)
    assert_edges(edges(root, "imports"), EXPECTED_IMPORTS)


def test_reindex_without_changes_keeps_the_edges(indexed: Path) -> None:
    run_index(indexed)
    assert_edges(edges(indexed, "calls"), EXPECTED_CALLS)
    assert_edges(edges(indexed, "imports"), EXPECTED_IMPORTS)


@pytest.mark.parametrize("keep_indexer", [False, True], ids=["fresh-indexer", "long-lived-indexer"])
def test_incremental_reresolves_unchanged_files(tmp_path: Path, keep_indexer: bool) -> None:
    """Rename textops.shout (called from models.py directly and from cli.py through the
    app/util re-export, two import hops away) and add app/util/extra.py, which cli.py already
    imports: the edges of the unchanged files must follow. Either a new Indexer per pass
    (the CLI: symbol table loaded from the database) or one kept alive (the hub)."""
    indexed = copy_fixture(tmp_path)
    store = Store.open(indexed)
    kept = Indexer(indexed, store, IndexConfig(inject=False))

    def reindex() -> None:
        if keep_indexer:
            assert kept.index().errors == []
        else:
            run_index(indexed)

    reindex()
    assert_edges(edges(indexed, "calls"), EXPECTED_CALLS)
    textops = indexed / TEXTOPS
    source = textops.read_text(encoding="utf-8")
    textops.write_text(
        source.replace("def shout(", "def holler(").replace("return shout(", "return holler("), "utf-8"
    )
    touch_later(textops)
    (indexed / EXTRA).write_text('"""Added later."""\n\n\ndef enrich(data):\n    return data\n', "utf-8")

    reindex()

    removed = {
        (n(TEXTOPS, "process"), n(TEXTOPS, "shout")),
        (n(MODELS, "Model.label"), n(TEXTOPS, "shout")),  # tops.shout no longer exists
        (n(CLI, "main"), n(TEXTOPS, "shout")),  # yell re-exports a name that is gone
    }
    added = {
        (n(TEXTOPS, "holler"), n(HELPERS, "slugify")),
        (n(TEXTOPS, "process"), n(TEXTOPS, "holler")),
        (n(CLI, "main"), n(EXTRA, "enrich")),
    }
    expected_calls = sorted(
        (set(EXPECTED_CALLS) - removed - {(n(TEXTOPS, "shout"), n(HELPERS, "slugify"))}) | added
    )
    assert_edges(edges(indexed, "calls"), expected_calls)
    assert_edges(edges(indexed, "imports"), [*EXPECTED_IMPORTS, (CLI, EXTRA)])
    assert not any("[orphaned]" in label for edge in edges(indexed, "calls") for label in edge)

    # And back: the old name returns (a new node), the unchanged importers link to it again.
    textops.write_text(source, "utf-8")
    touch_later(textops)
    (indexed / EXTRA).unlink()
    reindex()
    store.close()
    assert_edges(edges(indexed, "calls"), EXPECTED_CALLS)
    assert_edges(edges(indexed, "imports"), EXPECTED_IMPORTS)


def node_id(root: Path, path: str, qualname: str) -> str:
    store = Store.open(root)
    try:
        row = store.connection.execute(
            "SELECT id FROM nodes WHERE file_path = ? AND qualname = ? AND status = 'active'",
            (path, qualname),
        ).fetchone()
    finally:
        store.close()
    assert row is not None, f"{path}:{qualname} not indexed"
    return str(row[0])


SPECIAL_SOURCE = """

class Special(Model):  # {class_id}
    def save(self):  # {save_id}
        super().save()
        self.validate()
        return self.label()
"""


def test_class_moved_to_an_earlier_file_with_a_long_lived_indexer(indexed: Path) -> None:
    """The hub keeps one Indexer (and its symbol table) alive. Moving ``Special`` (anchors
    kept) from models.py into engine.py, which sorts before it, must not lose the moved node
    when models.py is replaced in the table after engine.py."""
    class_id = node_id(indexed, MODELS, "Special")
    save_id = node_id(indexed, MODELS, "Special.save")
    store = Store.open(indexed)
    try:
        indexer = Indexer(indexed, store, IndexConfig(inject=False))
        script = indexed / MAIN
        script.write_text(script.read_text("utf-8") + "# edited\n", "utf-8")
        touch_later(script)
        indexer.index()  # a real change: the symbol table is loaded and kept, as in the hub
        assert indexer.symbols is not None
        models = indexed / MODELS
        models.write_text(models.read_text("utf-8").split("\n\nclass Special(Model):")[0] + "\n", "utf-8")
        engine = indexed / ENGINE
        text = engine.read_text("utf-8").replace(
            "from .models import Model, Special", "from .models import Model"
        )
        engine.write_text(text + SPECIAL_SOURCE.format(class_id=class_id, save_id=save_id), "utf-8")
        touch_later(models)
        touch_later(engine)
        report = indexer.index()
    finally:
        store.close()
    assert report.errors == []
    assert node_id(indexed, ENGINE, "Special") == class_id
    moved = {
        (n(MODELS, "Special.save"), n(MODELS, "Model.save")): (
            n(ENGINE, "Special.save"),
            n(MODELS, "Model.save"),
        ),
        (n(MODELS, "Special.save"), n(BASE, "Base.validate")): (
            n(ENGINE, "Special.save"),
            n(BASE, "Base.validate"),
        ),
        (n(MODELS, "Special.save"), n(MODELS, "Model.label")): (
            n(ENGINE, "Special.save"),
            n(MODELS, "Model.label"),
        ),
    }
    expected = sorted(moved.get(edge, edge) for edge in EXPECTED_CALLS)
    assert_edges(edges(indexed, "calls"), expected)
