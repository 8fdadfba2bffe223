"""Proposals against real files, real tree-sitter and a real SQLite store."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from remora_core.agents.context import LocalAgentContext
from remora_core.agents.core_tools import CoreTools
from remora_core.agents.drafts import draft_rewrite
from remora_core.agents.errors import ProposalError
from remora_core.agents.proposals import ProposalStore
from remora_core.parsing.python_source import parse_python
from remora_core.store.store import Store
from tests.fake_llm import indexed_project, node_id_of

SOURCE = {
    "pkg/loader.py": '''
        import functools


        class Loader:
            """Loads things."""

            @functools.cache
            @staticmethod
            def load(path):
                return open(path).read()

            def size(self, path):
                return len(self.load(path))


        def helper(x):
            return x + 1
        ''',
}


@pytest.fixture
def proj(tmp_path: Path) -> tuple[Path, Store]:
    root = tmp_path / "proj"
    store = indexed_project(root, SOURCE)
    yield root, store
    store.close()


def _tools(root: Path, store: Store, node_id: str) -> tuple[CoreTools, ProposalStore]:
    proposals = ProposalStore(store, root)
    return CoreTools(LocalAgentContext(node_id, root, store, proposals)), proposals


def _text(root: Path) -> str:
    return (root / "pkg/loader.py").read_text()


def test_rewrite_approved_twice_applies_once(proj: tuple[Path, Store]) -> None:
    root, store = proj
    helper = node_id_of(store, "helper")
    tools, proposals = _tools(root, store, helper)
    reply = tools.rewrite_self("def helper(x: int) -> int:\n    return x + 2\n")
    assert "proposal 'pr_" in reply and "+    return x + 2" in reply
    (pending,) = proposals.list(status="pending")
    assert pending.node_id == helper and pending.kind == "rewrite"
    first = proposals.approve(pending.id)
    assert first.applied and first.status == "applied"
    after_first = _text(root)
    second = proposals.approve(pending.id)
    assert not second.applied and "already applied" in second.message
    assert _text(root) == after_first
    assert after_first.count("return x + 2") == 1
    line = next(line for line in after_first.splitlines() if "def helper" in line)
    assert line.startswith("def helper(x: int) -> int:") and line.endswith(f"# {helper}")
    assert proposals.get(pending.id).status == "applied"


def test_moved_node_still_applies_to_its_span(proj: tuple[Path, Store]) -> None:
    root, store = proj
    size = node_id_of(store, "Loader.size")
    tools, proposals = _tools(root, store, size)
    tools.rewrite_self("def size(self, path):\n    return len(self.load(path)) or 0\n")
    (pending,) = proposals.list()
    path = root / "pkg/loader.py"
    path.write_text("# a new header comment\n\n\n" + path.read_text())  # the node moves 3 lines down
    result = proposals.approve(pending.id)
    assert result.applied
    text = _text(root)
    assert "return len(self.load(path)) or 0" in text
    assert text.startswith("# a new header comment\n")
    assert "return x + 1" in text and "return open(path).read()" in text
    assert result.start == text.splitlines().index(next(l for l in text.splitlines() if "def size" in l))
    ast.parse(text)


def test_stale_proposal_refused(proj: tuple[Path, Store]) -> None:
    root, store = proj
    helper = node_id_of(store, "helper")
    tools, proposals = _tools(root, store, helper)
    tools.rewrite_self("def helper(x):\n    return x * 2\n")
    (pending,) = proposals.list()
    path = root / "pkg/loader.py"
    path.write_text(path.read_text().replace("return x + 1", "return x + 100"))
    before = path.read_text()
    result = proposals.approve(pending.id)
    assert not result.applied and result.status == "stale"
    assert "changed since proposal" in result.message and helper in result.message
    assert path.read_text() == before
    assert proposals.get(pending.id).status == "stale"


def test_decorated_method_keeps_decorators_and_anchor(proj: tuple[Path, Store]) -> None:
    root, store = proj
    load = node_id_of(store, "Loader.load")
    tools, proposals = _tools(root, store, load)
    # the model omits the decorators and the anchor, and writes at column 0
    tools.rewrite_self(
        "def load(path: str) -> str:\n    with open(path) as handle:\n        return handle.read()\n"
    )
    (pending,) = proposals.list()
    assert proposals.approve(pending.id).applied
    text = _text(root)
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if "def load" in line)
    assert lines[at - 2].strip() == "@functools.cache" and lines[at - 1].strip() == "@staticmethod"
    assert lines[at].startswith("    def load(path: str) -> str:") and lines[at].endswith(f"# {load}")
    assert lines[at + 1] == "        with open(path) as handle:"
    parsed = parse_python(text.encode())
    (found,) = [d for d in parsed.defs if d.anchor == load]
    assert found.qualname == "Loader.load" and found.start_line == at - 1
    ast.parse(text)


def test_class_rewrite_keeps_method_anchors(proj: tuple[Path, Store]) -> None:
    root, store = proj
    loader = node_id_of(store, "Loader")
    load = node_id_of(store, "Loader.load")
    size = node_id_of(store, "Loader.size")
    tools, proposals = _tools(root, store, loader)
    tools.rewrite_self(
        'class Loader:\n    """Loads files."""\n\n    @staticmethod\n    def load(path):\n        return \'\'\n\n'
        "    def size(self, path):\n        return 0\n"
    )
    assert proposals.approve(proposals.list()[0].id).applied
    parsed = parse_python(_text(root).encode())
    anchors = {d.qualname: d.anchor for d in parsed.defs}
    assert anchors["Loader"] == loader and anchors["Loader.load"] == load and anchors["Loader.size"] == size


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("def helper(x):\n    return (x +\n", "does not parse"),
        ("def helper2(x):\n    return x\n", "renaming creates a new node"),
        ("def helper(x):\n    return x\n\ndef other():\n    pass\n", "2 top-level definitions"),
        ("def helper(x):\n    return x\n\nprint('side effect')\n", "statement outside the definition"),
        ("class helper:\n    pass\n", "expected a function"),
        ("", "empty"),
    ],
)
def test_bad_rewrites_rejected_with_reason(proj: tuple[Path, Store], source: str, reason: str) -> None:
    root, store = proj
    helper = node_id_of(store, "helper")
    tools, proposals = _tools(root, store, helper)
    with pytest.raises(ProposalError, match=reason):
        tools.rewrite_self(source)
    assert proposals.list() == []


def test_apply_to_buffer_lines(proj: tuple[Path, Store]) -> None:
    root, store = proj
    helper = node_id_of(store, "helper")
    tools, proposals = _tools(root, store, helper)
    tools.rewrite_self("```python\ndef helper(x):\n    y = x + 1\n    return y\n```")
    (pending,) = proposals.list()
    buffer = _text(root).splitlines()
    buffer.insert(0, "# unsaved edit in the buffer")
    on_disk = _text(root)
    result = proposals.apply_to_lines(pending.id, buffer)
    assert result.applied and result.lines is not None
    assert _text(root) == on_disk  # the file is untouched: the editor writes the buffer
    first, last = result.changed_range
    assert result.lines[first - 1].startswith("def helper(x):") and result.lines[last - 1] == "    return y"
    assert result.lines[: result.start] == buffer[: result.start]
    assert result.lines[result.start + len(result.replacement) :] == buffer[result.old_end :]
    assert not proposals.apply_to_lines(pending.id, buffer).applied


def test_reject_keeps_feedback(proj: tuple[Path, Store]) -> None:
    root, store = proj
    tools, proposals = _tools(root, store, node_id_of(store, "helper"))
    tools.rewrite_self("def helper(x):\n    return x - 1\n")
    proposal = proposals.reject(proposals.list()[0].id, "keep the + sign")
    assert proposal.status == "rejected" and proposal.feedback == "keep the + sign"
    with pytest.raises(ProposalError, match="already rejected"):
        proposals.reject(proposal.id, "again")


def test_propose_new_method_after_sibling(proj: tuple[Path, Store]) -> None:
    root, store = proj
    load = node_id_of(store, "Loader.load")
    tools, proposals = _tools(root, store, load)
    reply = tools.propose_new_node(
        "method", "exists", "def exists(self, path):\n    return True\n", insert_after=load
    )
    (pending,) = proposals.list()
    assert pending.kind == "new_node" and pending.node_id == node_id_of(store, "Loader")
    (new_id,) = pending.created_node_ids()
    assert new_id in reply
    assert proposals.approve(pending.id).applied
    text = _text(root)
    ast.parse(text)
    parsed = parse_python(text.encode())
    by_name = {d.qualname: d for d in parsed.defs}
    assert by_name["Loader.exists"].anchor == new_id
    assert (
        by_name["Loader.load"].end_line
        < by_name["Loader.exists"].start_line
        < by_name["Loader.size"].start_line
    )
    line = text.splitlines()[by_name["Loader.exists"].def_line - 1]
    assert line.startswith("    def exists(self, path):")


def test_propose_new_function_at_end_of_file(proj: tuple[Path, Store]) -> None:
    root, store = proj
    tools, proposals = _tools(root, store, node_id_of(store, "helper"))
    tools.propose_new_node("function", "twice", "def twice(x):\n    return 2 * x\n")
    assert proposals.approve(proposals.list()[0].id).applied
    text = _text(root)
    assert text.rstrip().splitlines()[-2].startswith("def twice(x):")
    assert "return x + 1\n\n\ndef twice" in text
    ast.parse(text)
    with pytest.raises(ProposalError, match="already has a definition named 'twice'"):
        _tools(root, store, node_id_of(store, "helper"))[0].propose_new_node(
            "function", "twice", "def twice():\n    pass\n"
        )


def test_draft_rewrite_is_pure_and_indents(tmp_path: Path) -> None:
    text = "class A:  # rm_aaaaaaa1\n    def f(self):  # rm_aaaaaaa2\n        return 1\n"
    proposal = draft_rewrite(text, "rm_aaaaaaa2", "a.py", "    def f(self):\n        return 2\n")
    assert proposal.new_source == "    def f(self):  # rm_aaaaaaa2\n        return 2\n"
    assert "@@ -2,2 +2,2 @@" in proposal.diff


def test_file_node_rewrite_keeps_the_file_anchor(proj: tuple[Path, Store]) -> None:
    root, store = proj
    file_id = store.file_row("pkg/loader.py").file_id
    tools, proposals = _tools(root, store, file_id)
    text = _text(root)
    body = "\n".join(line for line in text.splitlines() if "remora-file" not in line) + "\nVERSION = 2\n"
    tools.rewrite_self(body)
    assert proposals.approve(proposals.list()[0].id).applied
    new = _text(root)
    assert new.splitlines()[0] == f"# remora-file: {file_id}" and new.endswith("VERSION = 2\n")
    assert parse_python(new.encode()).file_anchor == file_id
