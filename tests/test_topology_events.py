"""Every index path emits the same ``TopologyChanged`` events (one emitter,
``events.topology``): ``remora index``, the re-index after an approve, the editor host's index
and the hub."""

from __future__ import annotations

from pathlib import Path

from remora_core.agents.drafts import draft_new_node
from remora_core.agents.proposals import ProposalStore
from remora_core.cli import main
from remora_core.config import IndexConfig
from remora_core.editor.service import EditorService
from remora_core.engine import Engine
from remora_core.events.models import TopologyChangedEvent
from remora_core.events.store import EventLog
from remora_core.hub.indexing import HubIndexer
from remora_core.store.store import Store
from tests.conftest import index_project, write_files

FILES = {
    "pkg/__init__.py": "",
    "pkg/mod.py": """
        def first():
            return 1
        """,
}
ADDED = """
    def first():
        return 1


    def second():
        return 2
    """


def _topology(root: Path, after: int = 0) -> list[TopologyChangedEvent]:
    store = Store.open(root)
    try:
        events = EventLog(store.connection).after(after, event_types=["TopologyChanged"])
    finally:
        store.close()
    return [event for event in events if isinstance(event, TopologyChangedEvent)]


def _ids(root: Path, path: str) -> dict[str, str]:
    store = Store.open(root)
    try:
        return {row.qualname: row.id for row in store.nodes_in_file(path, active_only=True)}
    finally:
        store.close()


def _last_seq(root: Path) -> int:
    store = Store.open(root)
    try:
        return EventLog(store.connection).last_seq()
    finally:
        store.close()


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    write_files(root, FILES)
    index_project(root)
    return root


def test_remora_index_emits(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    write_files(root, FILES)
    assert main(["index", str(root)]) == 0
    first = _topology(root)
    assert {event.file_path for event in first} == {"pkg/__init__.py", "pkg/mod.py"}
    seq = _last_seq(root)
    write_files(root, {"pkg/mod.py": ADDED})
    assert main(["index", str(root)]) == 0
    [event] = _topology(root, seq)
    assert event.file_path == "pkg/mod.py" and event.added_nodes == [_ids(root, "pkg/mod.py")["second"]]
    seq = _last_seq(root)
    assert main(["index", str(root)]) == 0
    assert _topology(root, seq) == []  # nothing changed: nothing emitted


def test_approve_reindex_emits(tmp_path: Path) -> None:
    root = _project(tmp_path)
    seq = _last_seq(root)
    ids = _ids(root, "pkg/mod.py")
    store = Store.open(root)
    try:
        text = (root / "pkg/mod.py").read_text()
        proposal, new_id = draft_new_node(
            text,
            ids["pkg/mod.py"],
            "pkg/mod.py",
            "function",
            "second",
            "def second():\n    return 2\n",
            insert_after=ids["first"],
        )
        ProposalStore(store, root).submit(proposal)
        with Engine(root, store=store) as engine:
            assert engine.approve(proposal.id).applied
    finally:
        store.close()
    [event] = _topology(root, seq)
    assert event.file_path == "pkg/mod.py" and event.added_nodes == [new_id]
    hub = Store.open(root)
    try:
        seq = _last_seq(root)
        result = HubIndexer(root, hub, IndexConfig()).run(["pkg/mod.py"])
        assert result.events == [] and _topology(root, seq) == []  # the hub has nothing left to say
    finally:
        hub.close()


def test_editor_host_index_emits(tmp_path: Path) -> None:
    root = _project(tmp_path)
    seq = _last_seq(root)
    write_files(root, {"pkg/mod.py": ADDED})
    service = EditorService()
    try:
        result = service.index({"root": str(root)})
    finally:
        service.close()
    assert result["code"] == 0
    [event] = _topology(root, seq)
    assert event.added_nodes == [_ids(root, "pkg/mod.py")["second"]]


def test_hub_pass_emits(tmp_path: Path) -> None:
    root = _project(tmp_path)
    seq = _last_seq(root)
    write_files(root, {"pkg/mod.py": ADDED})
    store = Store.open(root)
    try:
        result = HubIndexer(root, store, IndexConfig()).run(["pkg/mod.py"])
    finally:
        store.close()
    [event] = _topology(root, seq)
    assert [e.event_id for e in result.events] == [event.event_id]
    assert event.added_nodes == [_ids(root, "pkg/mod.py")["second"]]
