"""The ``remora`` command as other tools and tests use it (real subprocesses)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli, write_files

PROJECT = {
    "app/__init__.py": "",
    "app/core.py": """
    from .util import helper

    class Service:
        def run(self):
            return self.step() + helper()

        def step(self):
            return 1
    """,
    "app/util.py": """
    def helper():
        return 2
    """,
    "broken.py": "def ok():\n    pass\n\ndef bad(:\n    pass\n",
    ".venv/lib/site.py": "def not_indexed(): pass\n",
    "env2/pyvenv.cfg": "home = /usr\n",
    "env2/lib/x.py": "def also_not(): pass\n",
    "build/gen.py": "def generated(): pass\n",
    "node_modules/pkg/x.py": "def nope(): pass\n",
    ".gitignore": "build/\n",
}


def make(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    write_files(root, PROJECT)
    return root


def test_index_json_has_the_contract_shape(tmp_path: Path) -> None:
    root = make(tmp_path)
    done = run_cli("index", str(root), "--no-inject", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert set(report) >= {"files", "nodes", "edges", "anchors_added", "orphaned", "errors", "seconds"}
    assert report["files"] == 4  # venvs, node_modules and gitignored build/ are skipped
    assert report["nodes"] == {"file": 4, "class": 1, "function": 3, "method": 2}
    assert set(report["edges"]) == {"parent_of", "calls", "imports"}
    assert report["edges"]["calls"] == 2  # run -> step, run -> helper
    assert report["edges"]["imports"] == 1  # core -> util
    assert report["anchors_added"] == 0 and report["orphaned"] == 0
    assert [e["path"] for e in report["errors"]] == ["broken.py"]
    assert "line 4" in report["errors"][0]["message"]
    assert "rm_" not in (root / "app/core.py").read_text()  # --no-inject touched nothing


def test_reindex_of_an_unchanged_tree_changes_nothing(tmp_path: Path) -> None:
    root = make(tmp_path)
    first = json.loads(run_cli("index", str(root), "--json").stdout)
    assert first["anchors_added"] == 7  # 3 files + 4 definitions; broken.py is left alone until it parses
    assert "rm_" not in (root / "broken.py").read_text()
    nodes_before = run_cli("nodes", str(root / "app/core.py"), "--json").stdout
    second = json.loads(run_cli("index", str(root), "--json").stdout)
    assert (second["anchors_added"], second["orphaned"], second["changed_files"]) == (0, 0, 0)
    assert run_cli("nodes", str(root / "app/core.py"), "--json").stdout == nodes_before


def test_nodes_lists_one_file(tmp_path: Path) -> None:
    root = make(tmp_path)
    run_cli("index", str(root))
    done = run_cli("nodes", str(root / "app/core.py"), "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [(r["type"], r["qualname"]) for r in rows] == [
        ("file", "app/core.py"),
        ("class", "Service"),
        ("method", "Service.run"),
        ("method", "Service.step"),
    ]
    assert set(rows[0]) >= {"id", "type", "name", "qualname", "start_line", "end_line", "parent_id", "status"}
    assert rows[2]["parent_id"] == rows[1]["id"]
    text = run_cli("nodes", "app/core.py", cwd=root).stdout
    assert "Service.run" in text and rows[2]["id"] in text


def test_show_prints_source_parent_callers_and_callees(tmp_path: Path) -> None:
    root = make(tmp_path)
    run_cli("index", str(root))
    rows = json.loads(run_cli("nodes", str(root / "app/core.py"), "--json").stdout)
    run_id = rows[2]["id"]
    done = run_cli("show", run_id, "--json", cwd=root)
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["source"].startswith("    def run(self):")
    assert shown["parent"]["qualname"] == "Service"
    assert sorted(c["qualname"] for c in shown["callees"]) == ["Service.step", "helper"]
    step = run_cli("show", "Service.step", "--json", cwd=root)
    assert [c["id"] for c in json.loads(step.stdout)["callers"]] == [run_id]
    human = run_cli("show", run_id, cwd=root).stdout
    assert "callees:" in human and "def run(self):" in human


def test_user_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    root = make(tmp_path)
    cases = [
        run_cli("show", "rm_nothere", cwd=root),  # no index yet
        run_cli("index", str(root / "missing")),
        run_cli("nodes", str(root / "nope.py")),
    ]
    run_cli("index", str(root))
    cases.append(run_cli("show", "rm_nothere", cwd=root))
    for done in cases:
        assert done.returncode == 1
        assert "Traceback" not in done.stderr
        assert done.stderr.startswith("remora: error: ") and done.stderr.count("\n") == 1


def test_unknown_config_key_is_an_error_naming_the_key(tmp_path: Path) -> None:
    root = make(tmp_path)
    write_files(root, {".remora/config.toml": "[index]\nanchor_colum = 120\n"})
    done = run_cli("index", str(root))
    assert done.returncode == 1
    assert "'index.anchor_colum'" in done.stderr and "config.toml" in done.stderr
    write_files(root, {".remora/config.toml": "[index]\nanchor_column = 'wide'\n"})
    assert "anchor_column" in run_cli("index", str(root)).stderr
    write_files(root, {".remora/config.toml": "[index\n"})
    assert "not valid TOML" in run_cli("index", str(root)).stderr


def test_config_sets_the_anchor_column_and_exclusions(tmp_path: Path) -> None:
    root = make(tmp_path)
    write_files(root, {".remora/config.toml": '[index]\nanchor_column = 100\nexclude = ["broken.py"]\n'})
    report = json.loads(run_cli("index", str(root), "--json").stdout)
    assert report["files"] == 3 and report["errors"] == []
    line = (root / "app/util.py").read_text().splitlines()[1]
    assert len(line) == 100 and line.startswith("def helper():")


def test_non_utf8_file_is_indexed_and_anchored_bytewise(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    original = b"# -*- coding: latin-1 -*-\ndef caf\xe9():\n    return '\xe9'\n"
    (root / "latin.py").write_bytes(original)
    report = json.loads(run_cli("index", str(root), "--json").stdout)
    assert report["nodes"]["function"] == 1 and report["errors"] == []
    data = (root / "latin.py").read_bytes()
    lines = data.split(b"\n")
    assert lines[0] == b"# -*- coding: latin-1 -*-" and lines[1].startswith(b"# remora-file: rm_")
    assert lines[2].startswith(b"def caf\xe9():") and b"# rm_" in lines[2]
    assert lines[3] == b"    return '\xe9'"


def test_hub_once_indexes(tmp_path: Path) -> None:
    import subprocess
    import sys

    root = make(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "remora_core.cli.hub", "--once", str(root)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (root / ".remora" / "remora.db").exists()
