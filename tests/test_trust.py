"""Issue #9: anchors never break a program, never leave the root, never go through a link;
clear one-line errors on hostile trees. Each test replays the issue's reproduction through the
real ``remora`` command."""

from __future__ import annotations

import ast
import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from remora_core.agents.context import LocalAgentContext
from remora_core.agents.core_tools import CoreTools
from remora_core.agents.proposals import ProposalStore
from remora_core.parsing.python_source import parse_python
from remora_core.store.store import Store
from tests.conftest import ids_by_qualname, nodes_of, run_cli, write_files
from tests.test_parsing import oracle, shape


def index(root: Path, *extra: str) -> dict:  # type: ignore[type-arg]
    done = run_cli("index", str(root), "--json", *extra)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def run_python(root: Path, code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60, check=False
    )


def dump(data: bytes, inserted_lines: int = 0) -> str:
    """``ast.dump`` with type comments; ``# type: ignore`` line numbers moved back by the lines
    inserted above them (the file anchor line)."""
    tree = ast.parse(data, type_comments=True)
    for ignore in tree.type_ignores:
        ignore.lineno -= inserted_lines
    return ast.dump(tree, include_attributes=False)


# -- 1-6: program semantics ------------------------------------------------------------------
def test_a_bom_stays_first_and_the_module_still_imports(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_bytes(b"\xef\xbb\xbfX = 1\n\ndef f():\n    return X\n")
    report = index(tmp_path)
    assert report["anchors_added"] == 2 and report["errors"] == []
    data = (tmp_path / "m.py").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf# remora-file: rm_")
    done = run_python(tmp_path, "import m; print(m.f())")
    assert done.returncode == 0 and done.stdout == "1\n", done.stderr
    before = ids_by_qualname(tmp_path, "m.py")
    assert index(tmp_path)["anchors_added"] == 0  # the file anchor after the BOM is found again
    assert ids_by_qualname(tmp_path, "m.py") == before


@pytest.mark.parametrize("first", [b"# header\n", b"\n", b"#!/usr/bin/env python\n"])
def test_a_coding_declaration_on_line_2_is_never_moved(tmp_path: Path, first: bytes) -> None:
    source = first + b"# -*- coding: latin-1 -*-\nX = 'caf\xe9'\n\ndef f():\n    return X\n"
    (tmp_path / "m.py").write_bytes(source)
    index(tmp_path)
    lines = (tmp_path / "m.py").read_bytes().split(b"\n")
    assert lines[1] == b"# -*- coding: latin-1 -*-" and lines[2].startswith(b"# remora-file: rm_")
    done = run_python(tmp_path, "import m; print(m.f() == 'caf\\xe9')")
    assert done.stdout == "True\n", done.stderr


def test_type_comments_stay_intact_and_their_defs_are_anchored_on_the_next_line(tmp_path: Path) -> None:
    source = textwrap.dedent(
        """\
        def f(a):  # type: (int) -> str
            return str(a)


        def g(a,  # type: int
              b,  # type: str
              ):
            # type: (...) -> None
            pass


        class C:  # type: ignore
            def m(self):  # type: () -> int
                return 1
        """
    ).encode()
    (tmp_path / "t.py").write_bytes(source)
    report = index(tmp_path)
    # C's header holds a type comment and its body starts with a def: no place for its anchor
    assert report["anchors_added"] == 4, report
    assert [(e["path"], e["message"].split(" (")[0]) for e in report["errors"]] == [("t.py", "'C'")]
    data = (tmp_path / "t.py").read_bytes()
    assert dump(data, 1) == dump(source)
    text = data.decode()
    assert "return str(a)" in text.split("\n")[2] and "# rm_" in text.split("\n")[2]
    assert index(tmp_path)["anchors_added"] == 0  # every anchor is found where it was put
    assert len(nodes_of(tmp_path, "t.py")) == 5  # C is indexed, matched by name


def test_a_file_cpython_rejects_is_indexed_and_reported_but_not_anchored(tmp_path: Path) -> None:
    source = b"print 'python 2'\n\ndef f():\n    return 1\n"  # tree-sitter accepts it, CPython does not
    (tmp_path / "old.py").write_bytes(source)
    report = index(tmp_path)
    assert (tmp_path / "old.py").read_bytes() == source
    assert [e["path"] for e in report["errors"]] == ["old.py"]
    assert "syntax error at line 1" in report["errors"][0]["message"]
    assert sorted(row.qualname for row in nodes_of(tmp_path, "old.py")) == ["f", "old.py"]
    (tmp_path / "old.py").write_bytes(source.replace(b"print 'python 2'", b"print('python 3')"))
    report = index(tmp_path)
    assert report["errors"] == [] and report["anchors_added"] == 2


def test_cr_only_line_endings_are_python_lines(tmp_path: Path) -> None:
    source = b"import os\r\rdef f():\r    return os.sep\r\rclass A:\r    def m(self):\r        return f()\r"
    parsed = parse_python(source)
    assert parsed.problems == []
    assert [(d.qualname, d.def_line, d.end_line) for d in parsed.defs] == [("f", 3, 4), ("A", 6, 8), ("A.m", 7, 8)]
    (tmp_path / "cr.py").write_bytes(source)
    report = index(tmp_path)
    assert report["errors"] == [] and report["anchors_added"] == 4
    data = (tmp_path / "cr.py").read_bytes()
    assert b"\n" not in data and dump(data) == dump(source)
    assert index(tmp_path)["anchors_added"] == 0
    assert ("A.m", 8) in [(row.qualname, row.def_line) for row in nodes_of(tmp_path, "cr.py")]  # +1: file anchor


TREE_SITTER_GAP = """\
class A:
    def m(self):
        def f():
            (bar.
        baz)
        return f

    def n(self):
        return helper()


class B:
    def o(self):
        pass


def helper():
    return 1
"""


def test_a_file_only_tree_sitter_cannot_parse_takes_its_structure_from_cpython(tmp_path: Path) -> None:
    source = TREE_SITTER_GAP.encode()
    parsed = parse_python(source)
    assert parsed.problems == [] and not parsed.syntax_error
    assert shape(parsed) == oracle(ast.parse(source))
    (tmp_path / "gap.py").write_bytes(source)
    report = index(tmp_path)
    assert report["errors"] == [] and report["anchors_added"] == 8
    assert dump((tmp_path / "gap.py").read_bytes()) == dump(source)
    assert index(tmp_path)["anchors_added"] == 0
    rows = {row.qualname: row for row in nodes_of(tmp_path, "gap.py")}
    assert rows["A.n"].node_type == "method" and rows["B.o"].parent_id == rows["B"].id
    store = Store.open(tmp_path)
    try:
        calls = store.connection.execute(
            "SELECT to_id FROM edges WHERE from_id = ? AND edge_type = 'calls'", (rows["A.n"].id,)
        ).fetchall()
    finally:
        store.close()
    assert calls == [(rows["helper"].id,)]


# -- 7-10: never outside the root, never through a link ---------------------------------------
def test_a_symlinked_file_is_not_replaced_and_is_indexed_once_under_its_real_path(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    outside = tmp_path / "outside"
    write_files(root, {"pkg/real.py": "def f():\n    return 1\n"})
    write_files(outside, {"ext.py": "def g():\n    return 2\n"})
    os.symlink("real.py", root / "pkg/alias.py")
    os.symlink(outside / "ext.py", root / "pkg/ext.py")
    ext_before = (outside / "ext.py").read_bytes()
    index(root)
    assert (root / "pkg/alias.py").is_symlink() and (root / "pkg/ext.py").is_symlink()
    assert (outside / "ext.py").read_bytes() == ext_before
    store = Store.open(root)
    try:
        assert sorted(store.file_rows()) == ["pkg/real.py"]
    finally:
        store.close()


def test_approve_refuses_a_proposal_path_outside_the_root(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    write_files(root, {"m.py": "def f():\n    return 1\n"})
    (tmp_path / "outside.py").write_text("def f():\n    return 1\n")
    index(root)
    node = ids_by_qualname(root, "m.py")["f"]
    store = Store.open(root)
    try:
        proposals = ProposalStore(store, root)
        tools = CoreTools(LocalAgentContext(node, root, store, proposals))
        tools.rewrite_self("def f():\n    return 2\n")
        (proposal,) = proposals.list(status="pending")
        # The row is edited as the issue did (the agent tools never store such a path).
        store.connection.execute("UPDATE proposals SET file_path = '../outside.py'")
    finally:
        store.close()
    done = run_cli("approve", proposal.id, cwd=root)
    assert done.returncode == 1 and "outside the project root" in done.stderr and "Traceback" not in done.stderr
    assert (tmp_path / "outside.py").read_text() == "def f():\n    return 1\n"


# -- 12, 14, 15, 17: leftovers, read-only trees, clear errors, modes ---------------------------
def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_temp_files_of_dead_processes_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    write_files(tmp_path, {"pkg/m.py": "def f():\n    return 1\n"})
    dead = _dead_pid()
    stale_beside = tmp_path / f"pkg/.m.py.remora-{dead}.tmp"
    stale_state = tmp_path / f".remora/tmp/m.py.remora-{dead}.tmp"
    live = tmp_path / f"pkg/.m.py.remora-{os.getpid()}.tmp"
    for path in (stale_beside, stale_state, live):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("half")
    index(tmp_path)
    assert not stale_beside.exists() and not stale_state.exists() and live.exists()


def test_state_directory_is_owner_only_and_the_database_private(tmp_path: Path) -> None:
    write_files(tmp_path, {"m.py": "def f():\n    return 1\n"})
    done = subprocess.run(
        ["sh", "-c", f"umask 000; {sys.executable} -m remora_core.cli index {tmp_path}"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE((tmp_path / ".remora").stat().st_mode) == 0o700
    for name in ("remora.db", "index.lock"):
        assert stat.S_IMODE((tmp_path / ".remora" / name).stat().st_mode) == 0o600, name
    hub = subprocess.run(
        ["sh", "-c", f"umask 000; {sys.executable} -m remora_core.cli.hub --once {tmp_path}"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert hub.returncode == 0, hub.stderr
    for name in ("hub.lock", "hub.pid"):
        if (tmp_path / ".remora" / name).exists():
            assert stat.S_IMODE((tmp_path / ".remora" / name).stat().st_mode) == 0o600, name
    os.chmod(tmp_path / ".remora/remora.db", 0o644)  # as an older Remora left it
    assert run_cli("index", str(tmp_path)).returncode == 0
    assert stat.S_IMODE((tmp_path / ".remora/remora.db").stat().st_mode) == 0o600
    for extra in ("remora.db-wal", "remora.db-shm"):
        if (tmp_path / ".remora" / extra).exists():
            assert stat.S_IMODE((tmp_path / ".remora" / extra).stat().st_mode) & 0o077 == 0, extra


def test_a_read_only_source_file_is_indexed_reported_and_not_rewritten(tmp_path: Path) -> None:
    write_files(tmp_path, {"ro.py": "def f():\n    return 1\n", "rw.py": "def g():\n    return 1\n"})
    os.chmod(tmp_path / "ro.py", 0o444)
    report = index(tmp_path)
    assert (tmp_path / "ro.py").read_text() == "def f():\n    return 1\n"
    assert [(e["path"], "read-only" in e["message"]) for e in report["errors"]] == [("ro.py", True)]
    assert sorted(row.qualname for row in nodes_of(tmp_path, "ro.py")) == ["f", "ro.py"]
    assert "# rm_" in (tmp_path / "rw.py").read_text()


def _read_only(command: list[str], root: Path) -> list[str]:
    """``command`` run where ``root`` is read-only: root ignores file modes, so as root the
    tree is bind-mounted read-only onto itself in a private mount namespace (nothing leaks);
    otherwise its modes are enough (set by the caller)."""
    if os.geteuid() != 0:
        return command
    script = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'
    return ["unshare", "--mount", "sh", "-c", script, str(root), *command]


def _can_make_read_only(root: Path) -> bool:
    if os.geteuid() != 0:
        return True
    try:
        done = subprocess.run(_read_only(["true"], root), capture_output=True, timeout=30, check=False)
    except OSError:
        return False
    return done.returncode == 0


@pytest.mark.parametrize("existing_state", [False, True])
def test_a_read_only_tree_is_one_clear_line(tmp_path: Path, existing_state: bool) -> None:
    root = tmp_path / "proj"
    write_files(root, {"m.py": "def f():\n    return 1\n"})
    if not _can_make_read_only(root):
        pytest.skip("cannot make a read-only tree here (no mount namespace)")
    if existing_state:
        index(root)
    if os.geteuid() != 0:
        for directory, _, files in os.walk(root):
            for name in files:
                os.chmod(os.path.join(directory, name), 0o444)
            os.chmod(directory, 0o555)
    try:
        commands = [
            [sys.executable, "-m", "remora_core.cli", "index", str(root)],
            [sys.executable, "-m", "remora_core.cli.hub", "--once", str(root)],
            [sys.executable, "-m", "remora_core.cli.hub", "start", str(root)],
        ]
        for command in commands:
            done = subprocess.run(_read_only(command, root), capture_output=True, text=True, timeout=60, check=False)
            assert done.returncode == 1, (command, done.stdout, done.stderr)
            lines = done.stderr.strip().splitlines()
            assert len(lines) == 1 and "Traceback" not in done.stderr, (command, done.stderr)
            assert "corrupt" not in lines[0] and "read-only" in lines[0].lower(), lines
    finally:
        for directory, _, _ in os.walk(tmp_path):
            os.chmod(directory, 0o755)


def test_events_after_a_huge_number_and_cancel_of_an_unknown_id_are_errors(tmp_path: Path) -> None:
    write_files(tmp_path, {"m.py": "def f():\n    return 1\n"})
    index(tmp_path)
    huge = run_cli("events", "--after", "99999999999999999999999", cwd=tmp_path)
    assert huge.returncode == 1 and "out of range" in huge.stderr and "Traceback" not in huge.stderr
    cancel = run_cli("cancel", "nope", cwd=tmp_path)
    assert cancel.returncode == 1 and "'nope'" in cancel.stderr and "Traceback" not in cancel.stderr
