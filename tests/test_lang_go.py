"""Go as a registry language: exact nodes and edges of tests/fixtures/lang_go, identity rules,
and injection that never changes the program (gofmt, go vet, go build)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from remora_core.config import IndexConfig
from remora_core.index.indexer import Indexer
from remora_core.languages import language_for_path
from remora_core.store.store import Store
from tests.go_tools import run_go

FIXTURE = Path(__file__).parent / "fixtures" / "lang_go"
MAIN = "main.go"
SHAPE = "geo/shape.go"
METHODS = "geo/square_methods.go"
GENERIC = "geo/generic.go"
LINUX = "geo/linux.go"
LOG = "util/log.go"
Edge = tuple[str, str]

EXPECTED_NODES = sorted(
    [
        (MAIN, "main", "function"),
        (MAIN, "run", "function"),
        (SHAPE, "Shape", "class"),
        (SHAPE, "Square", "class"),
        (SHAPE, "Named", "class"),
        (SHAPE, "NewSquare", "function"),
        (SHAPE, "Total", "function"),
        (METHODS, "Square.Area", "method"),
        (METHODS, "Square.scale", "method"),
        (METHODS, "Named.Describe", "method"),
        (GENERIC, "Map", "function"),
        (GENERIC, "Stack", "class"),
        (GENERIC, "Stack.Push", "method"),
        (GENERIC, "Stack.grow", "method"),
        (LINUX, "platform", "function"),
        (LINUX, "suffix", "function"),
        (LOG, "Log", "function"),
        (LOG, "format", "function"),
    ]
)


def n(path: str, qualname: str) -> str:
    return f"{path}:{qualname}"


EXPECTED_CALLS: list[Edge] = sorted(
    [
        (n(MAIN, "main"), n(SHAPE, "NewSquare")),  # geo.NewSquare through go.mod's module path
        (n(MAIN, "main"), n(LOG, "Log")),  # logger.Log: an explicit import name
        (n(MAIN, "main"), n(MAIN, "run")),
        # s := geo.NewSquare(2); s.Area(): a call's result type is not inferred: no edge.
        (n(MAIN, "run"), n(GENERIC, "Stack.Push")),  # st := &geo.Stack[int]{}; st.Push(1)
        (n(MAIN, "run"), n(GENERIC, "Map")),
        # Total: s.Area() on a range variable of an interface type: no edge.
        (n(METHODS, "Square.Area"), n(METHODS, "Square.scale")),  # pointer -> value receiver
        (n(METHODS, "Named.Describe"), n(METHODS, "Square.Area")),  # promoted through embedding
        (n(GENERIC, "Stack.Push"), n(GENERIC, "Stack.grow")),
        (n(LINUX, "platform"), n(LINUX, "suffix")),
        (n(LOG, "Log"), n(LOG, "format")),
    ]
)

EXPECTED_IMPORTS: list[Edge] = sorted(
    [(MAIN, path) for path in (SHAPE, METHODS, GENERIC, LINUX)] + [(MAIN, LOG)]  # package dir -> its files
)

# A method's parent is its receiver type, pointer or not, in whichever file of the package.
EXPECTED_PARENTS: list[Edge] = sorted(
    [(MAIN, n(MAIN, q)) for q in ("main", "run")]
    + [(SHAPE, n(SHAPE, q)) for q in ("Shape", "Square", "Named", "NewSquare", "Total")]
    + [(n(SHAPE, "Square"), n(METHODS, q)) for q in ("Square.Area", "Square.scale")]
    + [(n(SHAPE, "Named"), n(METHODS, "Named.Describe"))]
    + [(GENERIC, n(GENERIC, q)) for q in ("Map", "Stack")]
    + [(n(GENERIC, "Stack"), n(GENERIC, q)) for q in ("Stack.Push", "Stack.grow")]
    + [(LINUX, n(LINUX, q)) for q in ("platform", "suffix")]
    + [(LOG, n(LOG, q)) for q in ("Log", "format")]
)


def copy_fixture(tmp_path: Path) -> Path:
    root = tmp_path / "lang_go"
    shutil.copytree(FIXTURE, root, ignore=shutil.ignore_patterns(".remora"))
    return root


def index(root: Path, inject: bool = True) -> None:
    store = Store.open(root)
    try:
        report = Indexer(root, store, IndexConfig(inject=inject)).index()
    finally:
        store.close()
    assert report.errors == []


def rows(root: Path, sql: str) -> list[tuple[str, ...]]:
    store = Store.open(root)
    try:
        return [tuple(row) for row in store.connection.execute(sql).fetchall()]
    finally:
        store.close()


def labels(root: Path) -> dict[str, str]:
    return {
        node_id: (path if node_type == "file" else n(path, qualname))
        for node_id, node_type, qualname, path in rows(
            root, "SELECT id, node_type, qualname, file_path FROM nodes WHERE status = 'active'"
        )
    }


def edges(root: Path, kind: str) -> list[Edge]:
    names = labels(root)
    found = rows(root, f"SELECT from_id, to_id FROM edges WHERE edge_type = '{kind}'")
    return sorted((names.get(source, source), names.get(target, target)) for source, target in found)


def ids(root: Path) -> dict[str, str]:
    return {label: node_id for node_id, label in labels(root).items()}


@pytest.fixture
def indexed(tmp_path: Path) -> Path:
    root = copy_fixture(tmp_path)
    index(root)
    return root


def test_go_is_registered() -> None:
    go = language_for_path("cmd/main.go")
    assert go is not None and go.name == "go" and go.anchor.prefix == "//"
    assert go.syntax_error(b"package p\n\nfunc F() {\n") is not None
    assert go.syntax_error(b"package p\n\nfunc F() {}\n") is None


def test_nodes_are_exact(indexed: Path) -> None:
    found = rows(indexed, "SELECT file_path, qualname, node_type FROM nodes WHERE node_type != 'file'")
    assert sorted(found) == EXPECTED_NODES
    files = rows(indexed, "SELECT file_path FROM nodes WHERE node_type = 'file'")
    assert sorted(path for (path,) in files) == sorted([MAIN, SHAPE, METHODS, GENERIC, LINUX, LOG])


def test_calls_edges_are_exact(indexed: Path) -> None:
    assert edges(indexed, "calls") == EXPECTED_CALLS


def test_imports_edges_are_exact(indexed: Path) -> None:
    assert edges(indexed, "imports") == EXPECTED_IMPORTS


def test_parent_edges_are_exact(indexed: Path) -> None:
    assert edges(indexed, "parent_of") == EXPECTED_PARENTS
    parent_ids = dict(rows(indexed, "SELECT qualname, parent_id FROM nodes WHERE node_type = 'method'"))
    assert parent_ids["Square.Area"] == ids(indexed)[n(SHAPE, "Square")]


def test_receiver_parent_survives_an_edit_of_the_methods_file(indexed: Path) -> None:
    methods = indexed / METHODS
    methods.write_text(methods.read_text("utf-8").replace("return 1", "return 2"), "utf-8")
    index(indexed)
    assert edges(indexed, "parent_of") == EXPECTED_PARENTS


def test_receiver_parent_follows_an_edit_of_the_types_file_only(indexed: Path) -> None:
    """The methods' file is unchanged; the type's file loses the type, then gets it back."""
    shape = indexed / SHAPE
    original = shape.read_text("utf-8")
    without = re.sub(r"type Named struct \{[^\n]*\n\tSquare\n\tName string\n\}\n", "", original)
    assert without != original
    shape.write_text(without, "utf-8")
    index(indexed)
    parents = edges(indexed, "parent_of")
    assert (METHODS, n(METHODS, "Named.Describe")) in parents  # no type: the method's file
    assert not any(child == n(METHODS, "Named.Describe") and parent != METHODS for parent, child in parents)
    shape.write_text(without + "\ntype Named struct {\n\tSquare\n\tName string\n}\n", "utf-8")
    index(indexed)
    assert (n(SHAPE, "Named"), n(METHODS, "Named.Describe")) in edges(indexed, "parent_of")
    assert (METHODS, n(METHODS, "Named.Describe")) not in edges(indexed, "parent_of")
    described = rows(indexed, "SELECT parent_id FROM nodes WHERE qualname = 'Named.Describe' AND status = 'active'")
    assert described == [(ids(indexed)[n(SHAPE, "Named")],)]


def test_anchors_are_gofmt_shaped(indexed: Path) -> None:
    shape = (indexed / SHAPE).read_text("utf-8").splitlines()
    # The package doc comment stays whole; the file anchor ends the package line.
    assert shape[:3] == ["// Package geo holds shapes.", "//", "// It is a fixture of Remora's Go support."]
    assert shape[3].startswith("package geo // remora-file: rm_")
    assert any(line.startswith("type Square struct { // rm_") for line in shape)
    linux = (indexed / LINUX).read_text("utf-8").splitlines()
    assert linux[:2] == ["//go:build linux", ""]  # the constraint keeps its blank line
    assert linux[2].startswith("package geo // remora-file: rm_")
    methods = (indexed / METHODS).read_text("utf-8")
    assert "func (s *Square) Area() float64 { // rm_" in methods


def test_reindex_keeps_ids(indexed: Path) -> None:
    before = ids(indexed)
    for path in (MAIN, SHAPE):
        (indexed / path).write_text((indexed / path).read_text("utf-8") + "\n", "utf-8")
    index(indexed)
    assert ids(indexed) == before
    assert edges(indexed, "calls") == EXPECTED_CALLS


def test_moved_func_keeps_its_id(indexed: Path) -> None:
    before = ids(indexed)
    linux = (indexed / LINUX).read_text("utf-8")
    line = next(text for text in linux.splitlines() if text.startswith("func suffix()"))
    (indexed / LINUX).write_text(linux.replace(line + "\n", ""), "utf-8")
    generic = indexed / GENERIC
    generic.write_text(generic.read_text("utf-8") + "\n" + line + "\n", "utf-8")
    index(indexed)
    after = ids(indexed)
    assert after[n(GENERIC, "suffix")] == before[n(LINUX, "suffix")]
    # platform() still calls suffix(), now in another file of the package.
    assert (n(LINUX, "platform"), n(GENERIC, "suffix")) in edges(indexed, "calls")


def test_new_func_in_sibling_file_is_resolved_incrementally(indexed: Path) -> None:
    util = indexed / "util" / "extra.go"
    log = indexed / LOG
    log.write_text(log.read_text("utf-8").replace("return strings.TrimSpace(m)", "return trim(m)"), "utf-8")
    index(indexed)
    assert (n(LOG, "format"), "util/extra.go:trim") not in edges(indexed, "calls")
    util.write_text('package util\n\nimport "strings"\n\nfunc trim(m string) string { return strings.TrimSpace(m) }\n')
    index(indexed)
    assert (n(LOG, "format"), "util/extra.go:trim") in edges(indexed, "calls")
    assert ("main.go", "util/extra.go") in edges(indexed, "imports")


@pytest.mark.slow
def test_injection_keeps_gofmt_vet_and_build(tmp_path: Path) -> None:
    root = copy_fixture(tmp_path)
    assert run_go(["gofmt", "-l", "."], root, tmp_path).stdout == ""  # clean before
    index(root)
    assert all("rm_" in (root / path).read_text("utf-8") for path in (MAIN, SHAPE, LINUX))
    assert run_go(["gofmt", "-l", "."], root, tmp_path).stdout == ""
    vet = run_go(["vet", "./..."], root, tmp_path)
    assert vet.returncode == 0, vet.stderr
    build = run_go(["build", "./..."], root, tmp_path)
    assert build.returncode == 0, build.stderr


@pytest.mark.slow
def test_gofmt_write_after_injection_keeps_ids(tmp_path: Path) -> None:
    root = copy_fixture(tmp_path)
    index(root)
    before = ids(root)
    # Re-indent by hand the way an editor might, then let gofmt put it back.
    shape = root / SHAPE
    shape.write_text(shape.read_text("utf-8").replace("\treturn &Square", "        return &Square"), "utf-8")
    assert run_go(["gofmt", "-w", "."], root, tmp_path).returncode == 0
    index(root)
    assert ids(root) == before
    assert edges(root, "calls") == EXPECTED_CALLS


def test_rewrite_proposal_checks_go_syntax_and_keeps_the_anchor(indexed: Path) -> None:
    from remora_core.agents.drafts import draft_rewrite
    from remora_core.agents.errors import ProposalError
    from remora_core.agents.proposals import splice_proposal

    text = (indexed / LOG).read_text("utf-8")
    node = ids(indexed)[n(LOG, "format")]
    new_source = "```go\nfunc format(m string) string {\n\treturn strings.ToLower(strings.TrimSpace(m))\n}\n```"
    proposal = draft_rewrite(text, node, LOG, new_source)
    assert proposal.new_source.startswith(f"func format(m string) string {{ // {node}\n")
    spliced = splice_proposal(proposal, text)
    assert not isinstance(spliced, str)
    assert "strings.ToLower(strings.TrimSpace(m))" in spliced.text
    assert f"// {node}" in spliced.text
    language = language_for_path(LOG)
    assert language is not None and language.syntax_error(spliced.text.encode()) is None
    with pytest.raises(ProposalError, match="does not parse as go"):
        draft_rewrite(text, node, LOG, "func format(m string) string {\n\treturn m +\n")
    with pytest.raises(ProposalError, match="expected the function 'format'"):
        draft_rewrite(text, node, LOG, "func other() {}\n")
    file_id = ids(indexed)[LOG]
    whole = draft_rewrite(text, file_id, LOG, "package util\n\nfunc Log(msg string) {}\n\nfunc format(m string) string { return m }\n")
    assert whole.new_source.startswith(f"package util // remora-file: {file_id}\n")


def test_new_nodes_in_a_go_file_are_top_level_proposals_of_the_file(indexed: Path) -> None:
    from remora_core.agents.drafts import draft_new_node
    from remora_core.agents.errors import ProposalError
    from remora_core.agents.proposals import splice_proposal

    text = (indexed / LOG).read_text("utf-8")
    file_id, log_id = ids(indexed)[LOG], ids(indexed)[n(LOG, "Log")]
    proposal, new_id = draft_new_node(
        text, file_id, LOG, "function", "extra", "```go\nfunc extra() string { return \"x\" }\n```", insert_after=log_id
    )
    assert proposal.kind == "new_node" and proposal.node_id == file_id
    spliced = splice_proposal(proposal, text)
    assert not isinstance(spliced, str)
    assert f'func extra() string {{ return "x" }} // {new_id}\n' in spliced.text
    language = language_for_path(LOG)
    assert language is not None and language.syntax_error(spliced.text.encode()) is None
    (indexed / LOG).write_text(spliced.text, "utf-8")
    index(indexed)
    assert ids(indexed)[n(LOG, "extra")] == new_id  # the proposed id is the node's id once indexed
    # a method goes after its receiver type (the container): Go methods are top-level
    shape = (indexed / SHAPE).read_text("utf-8")
    square = ids(indexed)[n(SHAPE, "Square")]
    method, method_id = draft_new_node(shape, square, SHAPE, "method", "Double", "func (s *Square) Double() { s.Side *= 2 }\n")
    after = splice_proposal(method, shape)
    assert not isinstance(after, str) and f"func (s *Square) Double() {{ s.Side *= 2 }} // {method_id}" in after.text
    with pytest.raises(ProposalError, match="already has a definition named 'format'"):
        draft_new_node(text, file_id, LOG, "function", "format", "func format() {}\n")
    with pytest.raises(ProposalError, match="does not parse as go"):
        draft_new_node(text, file_id, LOG, "function", "broken", "func broken( {\n")


def test_method_in_a_file_sorted_before_its_type_gets_the_type_as_parent(indexed: Path) -> None:
    (indexed / "geo" / "a_early.go").write_text("package geo\n\nfunc (n *Named) Early() string { return n.Name }\n")
    index(indexed)
    assert (n(SHAPE, "Named"), "geo/a_early.go:Named.Early") in edges(indexed, "parent_of")
    assert ("geo/a_early.go", "geo/a_early.go:Named.Early") not in edges(indexed, "parent_of")


def test_the_agent_prompt_names_the_language_and_fences_go(indexed: Path) -> None:
    from remora_core.agents.node import hydrate_agent

    store = Store.open(indexed)
    try:
        agent = hydrate_agent(indexed, store, ids(indexed)[n(SHAPE, "NewSquare")])
        for compact in (False, True):
            prompt = agent.node.system_prompt(compact=compact)
            assert "Go function" in prompt and "```go\nfunc NewSquare(" in prompt
            assert "Python" not in prompt and "rm_" not in prompt.split("```go", 1)[1].split("```", 1)[0]
    finally:
        store.close()
