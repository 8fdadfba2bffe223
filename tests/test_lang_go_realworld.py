"""A real Go module (Debian's golang-github-google-go-cmp-dev sources): after Remora injects its
anchors, gofmt lists no file, ``go vet`` says exactly what it said before and ``go build`` passes."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from remora_core.config import IndexConfig
from remora_core.index.indexer import Indexer
from remora_core.store.store import Store
from tests.go_tools import require_go, run_go

GO_CMP = Path("/usr/share/gocode/src/github.com/google/go-cmp")

pytestmark = pytest.mark.slow


def tokens(data: bytes) -> list[tuple[str, bytes]]:
    """Every leaf of the Go tree but comments: (type, text)."""
    from remora_core.languages.go import LANGUAGE

    tree = LANGUAGE.tools().parser.parse(data)
    found: list[tuple[str, bytes]] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "comment":
            continue
        if node.child_count == 0:
            found.append((node.type, data[node.start_byte : node.end_byte]))
        stack.extend(reversed(node.children))
    return found


def vet_lines(root: Path, tmp: Path) -> list[str]:
    done = run_go(["vet", "./..."], root, tmp)
    return sorted(line for line in done.stderr.splitlines() if not line.startswith("#"))


def test_go_cmp_still_builds_after_injection(tmp_path: Path) -> None:
    require_go()
    if not GO_CMP.is_dir():
        if os.environ.get("REMORA_REQUIRE_GO") == "1":
            pytest.fail(f"{str(GO_CMP)!r} missing: apt-get install golang-github-google-go-cmp-dev")
        pytest.skip("Debian's golang-github-google-go-cmp-dev is not installed")
    root = tmp_path / "go-cmp"
    shutil.copytree(GO_CMP, root)
    assert run_go(["gofmt", "-l", "."], root, tmp_path).stdout == ""
    vet_before = vet_lines(root, tmp_path)  # go-cmp's own tests already make go vet complain
    before = {path: tokens(path.read_bytes()) for path in root.rglob("*.go")}
    store = Store.open(root)
    try:
        report = Indexer(root, store, IndexConfig(inject=True)).index()
    finally:
        store.close()
    assert report.anchors_added > 500
    assert report.errors == []
    # The tree without comments is the same token for token, and no line moved.
    for path, expected in before.items():
        assert tokens(path.read_bytes()) == expected, path
        assert path.read_bytes().count(b"\n") == (GO_CMP / path.relative_to(root)).read_bytes().count(b"\n")
    assert run_go(["gofmt", "-l", "."], root, tmp_path).stdout == ""
    assert vet_lines(root, tmp_path) == vet_before
    build = run_go(["build", "./..."], root, tmp_path)
    assert build.returncode == 0, build.stderr
    assert report.edges.get("calls", 0) > 300 and report.edges.get("imports", 0) > 100
