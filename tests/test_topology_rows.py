"""``remora index`` writes its ``TopologyChanged`` events without the pydantic models
(``index.topology_rows``): the rows are the model path's, payloads byte for byte, and the
command's process never imports pydantic when the config file needs no more than a look."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from remora_core.events.store import EventLog
from remora_core.events.topology import TopologyEmitter, index_with_events, topology_events
from remora_core.index.changes import FileChange
from remora_core.index.indexer import Indexer
from remora_core.index.topology_rows import CHUNK, TopologyRowWriter, topology_payload
from remora_core.store.store import Store
from tests.conftest import write_files

CHANGES = [
    FileChange("pkg/a.py", added=["rm_aaaaaaaa", "rm_bbbbbbbb"], content_changed=True),
    FileChange("pkg/é \"q\"\\\x01.py", removed=["rm_cccccccc"], orphaned=["rm_dddddddd"], changed=["rm_eeeeeeee"]),
    FileChange("gone.py", orphaned=["rm_ffffffff"], deleted=True),
    FileChange("日本/x.py"),
]


@pytest.mark.parametrize("change", CHANGES)
@pytest.mark.parametrize("timestamp", [1764540000.1234567, 1764540000.0, 1700000000.5, 1764541234.987654])
def test_payload_is_the_models_json(change: FileChange, timestamp: float) -> None:
    event = topology_events([change])[0]  # the emitter's model of the change
    model = event.model_copy(update={"event_id": "0123456789ab", "timestamp": timestamp})
    assert topology_payload(change, "0123456789ab", timestamp) == model.to_json()


def _rows(root: Path) -> list[tuple[object, ...]]:
    store = Store.open(root)
    try:
        return store.connection.execute(
            "SELECT seq, event_id, event_type, kind, timestamp, correlation_id, agent_id, file_path, payload "
            "FROM events ORDER BY seq"
        ).fetchall()
    finally:
        store.close()


def _comparable(rows: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    """Rows without what is drawn at random or read from the clock (checked to be consistent)."""
    out = []
    for seq, event_id, event_type, kind, timestamp, correlation, agent, path, payload in rows:
        data = json.loads(str(payload))
        assert data.pop("event_id") == event_id and data.pop("timestamp") == timestamp
        out.append((seq, event_type, kind, correlation, agent, path, json.dumps(data)))
    return out


def test_written_rows_are_the_emitters(tmp_path: Path) -> None:
    many = CHANGES + [FileChange(f"m/{number}.py", added=[f"rm_{number:08d}"]) for number in range(CHUNK + 3)]
    for name, callback in (("models", TopologyEmitter), ("rows", TopologyRowWriter)):
        (tmp_path / name).mkdir()
        store = Store.open(tmp_path / name)
        try:
            with store.transaction():
                callback(store.connection)(many)
        finally:
            store.close()
    assert _comparable(_rows(tmp_path / "rows")) == _comparable(_rows(tmp_path / "models"))
    store = Store.open(tmp_path / "rows")
    try:  # and they read back as the models
        events = EventLog(store.connection).after(0, limit=10_000)
    finally:
        store.close()
    assert [(event.file_path, event.added_nodes) for event in events] == [  # type: ignore[attr-defined]
        (change.path, change.added) for change in many
    ]


FILES = {
    "pkg/__init__.py": "from pkg.mod import first\n",
    "pkg/mod.py": "def first():\n    return second()\n\n\ndef second():\n    return 2\n",
}


def test_cli_index_writes_the_model_paths_events(tmp_path: Path) -> None:
    from remora_core.cli import main

    write_files(tmp_path / "cli", FILES)
    write_files(tmp_path / "models", FILES)
    assert main(["index", "--no-inject", str(tmp_path / "cli")]) == 0
    store = Store.open(tmp_path / "models")
    try:
        index_with_events(Indexer(tmp_path / "models", store), inject=False)
    finally:
        store.close()
    cli, models = _rows(tmp_path / "cli"), _rows(tmp_path / "models")
    assert len(cli) == 2

    def ids_out(rows: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
        return [(*row[:-1], len(json.loads(str(row[-1]))["added_nodes"])) for row in _comparable(rows)]

    assert ids_out(cli) == ids_out(models)


def test_cli_index_process_imports_no_pydantic(tmp_path: Path) -> None:
    write_files(tmp_path / "proj", FILES)
    write_files(tmp_path / "proj", {".remora/config.toml": "[index]\nanchor_column = 120\nexclude = ['x/']\n"})
    code = (
        "import sys, json\nfrom remora_core.cli import main\n"
        f"assert main(['index', '--no-inject', {str(tmp_path / 'proj')!r}]) == 0\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('pydantic', 'remora_core.events.models')))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out.splitlines()[-1]) == []
    # another section: the full validation, as before (its errors are load_config's)
    shutil.rmtree(tmp_path / "proj" / ".remora")
    write_files(tmp_path / "proj", {".remora/config.toml": "[llm]\nbase_urll = 'x'\n"})
    done = subprocess.run(
        [sys.executable, "-m", "remora_core.cli", "index", "--no-inject", str(tmp_path / "proj")],
        capture_output=True,
        check=False,
        text=True,
    )
    assert done.returncode != 0 and "unknown key 'llm.base_urll'" in done.stderr
