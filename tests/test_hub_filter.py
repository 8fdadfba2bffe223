"""The hub's watch filter and its expansion of watched paths into files (no processes)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from watchfiles import Change

from remora_core.config import IndexConfig
from remora_core.hub.indexing import HubIndexer
from remora_core.hub.watch_filter import HubWatchFilter
from remora_core.store.store import Store


def test_filter_keeps_python_and_directories_only(project: Callable[[dict[str, str | bytes]], Path]) -> None:
    root = project(
        {
            "a.py": "",
            "pkg/b.py": "",
            ".gitignore": "build/\n*_gen.py\n",
            "env/pyvenv.cfg": "",
            "env/lib/x.py": "",
        }
    )
    keep = HubWatchFilter(root)

    def kept(rel: str) -> bool:
        return keep(Change.modified, str(root / rel))

    assert kept("a.py") and kept("pkg/b.py") and kept("pkg") and kept(".gitignore") and kept("pkg/.gitignore")
    for rel in (
        ".remora/remora.db-wal",
        ".remora/x.py",
        ".agentfs/a.py",
        ".git/index",
        ".git/hooks/x.py",
        "pkg/__pycache__/b.cpython-311.pyc",
        "pkg/__pycache__/b.py",
        "env/lib/x.py",
        ".venv/lib/site.py",
        "build/out.py",
        "pkg/thing_gen.py",
        "notes.txt",
        "pkg/.b.py.swp",
        "pkg/b.py~",
        "pkg/.#b.py",
        "pkg/b.py.remora-12.tmp",
    ):
        assert not kept(rel), rel
    assert not keep(Change.added, "/elsewhere/a.py")


def test_expand_turns_directories_into_their_files(project: Callable[[dict[str, str | bytes]], Path]) -> None:
    root = project({"pkg/a.py": "def f():\n    pass\n", "pkg/sub/b.py": "", "other.py": ""})
    store = Store.open(root)
    hub = HubIndexer(root, store, IndexConfig())
    result = hub.run(None)
    assert sorted(event.file_path for event in result.events) == ["other.py", "pkg/a.py", "pkg/sub/b.py"]
    assert hub.expand(["pkg"]) == ["pkg/a.py", "pkg/sub/b.py"]
    (root / "pkg").rename(root / "moved")
    assert hub.expand(["pkg", "moved", "4913"]) == [
        "moved/a.py",
        "moved/sub/b.py",
        "pkg/a.py",
        "pkg/sub/b.py",
    ]
    result = hub.run(hub.expand(["pkg", "moved"]))
    by_path = {event.file_path: event for event in result.events}
    assert by_path["pkg/a.py"].deleted and by_path["moved/a.py"].added_nodes
    assert not hub.run(hub.expand(["other.py"])).events  # unchanged: no event
    store.close()
