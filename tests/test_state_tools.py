"""Every update tool on a real indexed project (real SQLite, real files, real subprocesses)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from remora_core.agents.tools import ToolSet, collect_tools
from remora_core.config import HubConfig
from remora_core.hub.state.drift import Embedder
from remora_core.hub.state.store import NodeStateStore
from remora_core.hub.state.tools import ToolContext, UpdateTools
from remora_core.store.store import Store
from tests.fake_llm import FakeLLM, fake_llm_fixture  # noqa: F401 - the fixture
from tests.state_helpers import FAST, make_project, node_id, update


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_project(tmp_path_factory.mktemp("state_tools") / "proj")
    update(root)  # index + baseline state (fills the FTS index too)
    return root


@pytest.fixture
def tools(root: Path) -> Iterator[UpdateTools]:
    store = Store.open(root)
    try:
        yield UpdateTools(ToolContext(root, store, NodeStateStore(store.connection), FAST))
    finally:
        store.close()


def test_every_tool_has_a_schema_from_its_signature_and_docstring(tools: UpdateTools) -> None:
    schemas = {item["function"]["name"]: item["function"] for item in ToolSet(collect_tools(tools)).schemas()}
    assert set(schemas) == {
        "extract_signature", "compute_complexity", "find_callers", "find_callees", "find_tests",
        "search_similar", "list_exports", "generate_test_skeleton", "run_single_test",
    }
    assert schemas["find_callers"]["parameters"]["required"] == ["node_id"]
    assert "node's id" in schemas["find_callers"]["parameters"]["properties"]["node_id"]["description"]
    assert schemas["run_single_test"]["parameters"]["properties"]["timeout"]["description"].startswith("Seconds")


def test_extract_signature(root: Path, tools: UpdateTools) -> None:
    result = tools.extract_signature(node_id(root, "discount"))
    assert result.signature == "def discount(amount, rate)"
    assert result.docstring == "Apply a discount rate."
    assert tools.extract_signature(node_id(root, "Cart")).signature == "class Cart"


def test_compute_complexity(root: Path, tools: UpdateTools) -> None:
    result = tools.compute_complexity(node_id(root, "discount"))
    assert result.complexity == 3 and result.control_flow["raises"] == 1


def test_find_callers_gives_every_call_site_with_its_line(root: Path, tools: UpdateTools) -> None:
    result = tools.find_callers(node_id(root, "total"))
    sites = {(site.file_path, site.line, site.caller) for site in result.call_sites}
    assert ("shop/pricing.py", 23, "Cart.checkout") in sites
    assert ("shop/report.py", 6, "summary") in sites
    assert ("tests/test_pricing.py", 10, "test_total_sums") in sites
    assert {ref.qualname for ref in result.callers} == {"Cart.checkout", "summary", "test_total_sums"}


def test_find_callees(root: Path, tools: UpdateTools) -> None:
    assert [ref.qualname for ref in tools.find_callees(node_id(root, "total")).callees] == ["discount"]


def test_find_tests_by_name_and_by_call_edges(root: Path, tools: UpdateTools) -> None:
    by_name = tools.find_tests(node_id(root, "discount")).tests
    assert [(t.test_id, t.how) for t in by_name] == [("tests/test_pricing.py::test_discount", "name")]
    total = {(t.test_id, t.how) for t in tools.find_tests(node_id(root, "total")).tests}
    assert total == {("tests/test_pricing.py::test_total_sums", "name")}
    assert tools.find_tests(node_id(root, "summary")).tests == []


def test_find_tests_follows_calls_from_test_files(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", {"tests/test_other.py": "from shop.report import summary\n\n\ndef test_it():\n    assert summary([1])\n"})
    update(root)
    store = Store.open(root)
    try:
        tools = UpdateTools(ToolContext(root, store, NodeStateStore(store.connection), FAST))
        found = tools.find_tests(node_id(root, "summary")).tests
    finally:
        store.close()
    assert [(t.test_id, t.how) for t in found] == [("tests/test_other.py::test_it", "calls")]


def test_search_similar_uses_fts5(root: Path, tools: UpdateTools) -> None:
    result = tools.search_similar(node_id(root, "discount"), limit=3)
    assert result.method == "fts5"
    names = [item.qualname for item in result.similar]
    assert "test_discount" in names and "discount" not in names


def test_search_similar_reranks_with_embeddings(root: Path, fake_llm: FakeLLM) -> None:
    config = HubConfig(embeddings_url=fake_llm.base_url, embeddings_model="fake-embed")
    store = Store.open(root)
    try:
        tools = UpdateTools(ToolContext(root, store, NodeStateStore(store.connection), config, Embedder(config)))
        result = tools.search_similar(node_id(root, "discount"), limit=2)
    finally:
        store.close()
    assert result.method == "embedding" and len(result.similar) == 2
    assert any(request.path.endswith("/embeddings") for request in fake_llm.requests)


def test_list_exports(root: Path, tools: UpdateTools) -> None:
    pricing = tools.list_exports(node_id(root, "shop/pricing.py"))
    assert pricing.exports == ["total", "discount"]
    assert tools.list_exports(node_id(root, "summary")).exports == ["summary"]  # public names of its file


def test_generate_test_skeleton_writes_under_agentfs_only_and_it_runs(root: Path, tools: UpdateTools) -> None:
    result = tools.generate_test_skeleton(node_id(root, "Cart.checkout"))
    assert result.path == ".agentfs/tests/test_shop_pricing_Cart_checkout.py"
    assert (root / result.path).exists() and not (root / "tests" / Path(result.path).name).exists()
    run = tools.run_single_test(result.test_id)
    assert run.outcome == "passed", run.output


def test_run_single_test_reports_a_failure_with_its_output(root: Path, tools: UpdateTools) -> None:
    (root / "tests" / "test_fail.py").write_text("def test_no():\n    assert 1 == 2\n")
    run = tools.run_single_test("tests/test_fail.py::test_no")
    assert run.outcome == "failed" and "assert 1 == 2" in run.output


def test_run_single_test_kills_a_hung_test(root: Path, tools: UpdateTools) -> None:
    pid_file = root / "grandchild.pid"
    (root / "tests" / "test_hang.py").write_text(
        "import pathlib, subprocess, sys, time\n\n\ndef test_hang():\n"
        "    child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        f"    pathlib.Path({str(pid_file)!r}).write_text(str(child.pid))\n"
        "    time.sleep(600)\n"
    )
    run = tools.run_single_test("tests/test_hang.py::test_hang", timeout=10.0)
    assert run.outcome == "timeout" and "killed after 10 s" in run.output
    assert run.duration < 60
    if not pid_file.exists():  # a machine so loaded that pytest did not reach the test in 10 s
        return
    grandchild = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while Path(f"/proc/{grandchild}").exists() and "Z" not in _proc_state(grandchild):
        assert time.monotonic() < deadline, "the hung test's own child survived"
        time.sleep(0.05)


def _proc_state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return "Z"
