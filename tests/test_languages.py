"""The language registry: one entry per language, Python unchanged, anchor syntax per language."""

from __future__ import annotations

from pathlib import Path

from remora_core.languages import (
    ProjectSymbols,
    extensions,
    filetypes,
    is_source,
    language_for_path,
    languages,
    parse_source,
)
from remora_core.parsing.anchors import (
    HASH,
    AnchorEdit,
    anchor_syntax,
    apply_anchor_edits,
    find_file_anchor,
    find_node_anchor,
    source_hash,
    strip_anchors,
)
from remora_core.parsing.python_source import parse_python


def test_python_is_one_entry() -> None:
    python = language_for_path("pkg/mod.py")
    assert python is not None and python.name == "python"
    assert python in languages()
    assert ".py" in extensions()
    assert "python" in filetypes()
    assert python.anchor is HASH
    assert is_source("a/b.py") and not is_source("a/b.txt") and not is_source("Makefile")


def test_python_parse_is_parse_python() -> None:
    data = b"def f():  # rm_abcdefgh\n    g()\n"
    assert parse_source("x.py", data) == parse_python(data)
    python = language_for_path("x.py")
    assert python is not None
    assert python.syntax_error(data) is None
    assert python.syntax_error(b"def f(:\n") is not None


def test_slash_syntax_finds_strips_and_writes() -> None:
    slashes = anchor_syntax("//")
    assert find_node_anchor(b"func F() { // rm_abcdefgh", slashes) == "rm_abcdefgh"
    assert find_node_anchor(b"func F() { # rm_abcdefgh", slashes) is None
    assert strip_anchors(b"func F() { // rm_abcdefgh\n", slashes) == b"func F() {\n"
    assert source_hash(b"f() // rm_abcdefgh\n", slashes) == source_hash(b"f()\n", slashes)
    assert find_file_anchor([b"// remora-file: rm_abcdefgh"], slashes) == ("rm_abcdefgh", 1)
    out = apply_anchor_edits(b"x\n", [AnchorEdit(1, "rm_abcdefgh", is_file_anchor=True)], syntax=slashes)
    assert out == b"// remora-file: rm_abcdefgh\nx\n"


def test_unpadded_inline_syntax_is_gofmt_shaped() -> None:
    go_like = anchor_syntax("//", pad=False, file_inline=True)
    data = b"package p\n\nfunc F() {\n}\n"
    out = apply_anchor_edits(
        data, [AnchorEdit(1, "rm_aaaaaaaa", is_file_anchor=True), AnchorEdit(3, "rm_bbbbbbbb")], syntax=go_like
    )
    assert out == b"package p // remora-file: rm_aaaaaaaa\n\nfunc F() { // rm_bbbbbbbb\n}\n"
    assert find_file_anchor(out.split(b"\n"), go_like) == ("rm_aaaaaaaa", 1)


def test_project_symbols_routes_by_language() -> None:
    symbols = ProjectSymbols()
    assert set(symbols.tables) == {language.group for language in languages()}  # JS, TS, TSX share one
    assert dict(symbols.files) == {}


def test_health_lists_every_language() -> None:
    from remora_core.languages import health

    report = {entry["name"]: entry for entry in health()}
    assert report["python"]["available"] is True
    assert "go" in report and report["go"]["extensions"] == [".go"]
    assert set(report["go"]["tools"]) == {"gofmt"}  # type: ignore[arg-type]


def test_discovery_and_the_hub_filter_follow_the_registry(tmp_path: Path) -> None:
    from watchfiles import Change

    from remora_core.hub.watch_filter import HubWatchFilter
    from remora_core.index.discovery import discover

    for name in ("a.py", "b.go", "c.txt", "pkg/d.go", "pkg/e.rs"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x\n")
    assert [item.path for item in discover(tmp_path)] == ["a.py", "b.go", "pkg/d.go"]
    keep = HubWatchFilter(tmp_path)
    assert keep(Change.modified, str(tmp_path / "b.go"))
    assert keep(Change.modified, str(tmp_path / "a.py"))
    assert not keep(Change.modified, str(tmp_path / "pkg" / "e.rs"))
