"""The three node-state demos of issue #13, end to end through the real CLI on the fixture project
``tests/fixtures/state_demo`` (copied: indexing writes anchors)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from remora_core.events.store import EventLog
from remora_core.store.store import Store
from tests.conftest import run_cli
from tests.state_helpers import edit

DEMO = Path(__file__).parent / "fixtures" / "state_demo"


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    root = tmp_path / "demo"
    shutil.copytree(DEMO, root)
    (root / "tests" / "test_report.py").write_text("def test_placeholder():\n    assert True\n")
    for command in (["index", str(root)], ["update", "--root", str(root)]):
        done = run_cli(*command)
        assert done.returncode == 0, done.stderr
    return root


def _pytest(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=root, capture_output=True, text=True, timeout=300, check=False,
    )


@pytest.mark.parametrize("style", ["junit", "rA"])
def test_demo1_failure_context_from_a_pytest_report(demo: Path, style: str) -> None:
    if style == "junit":
        run = _pytest(demo, "--junitxml=report.xml")
        report = demo / "report.xml"
    else:
        run = _pytest(demo, "-rA")
        report = demo / "report.txt"
        report.write_text(run.stdout)
    assert run.returncode == 1, run.stdout
    done = run_cli("context", "--pytest", str(report), "--root", str(demo))
    assert done.returncode == 0, done.stderr
    path = Path(done.stdout.strip().split("written to ")[-1])
    assert path.parent == demo / ".agentfs" / "context" and path.exists()
    bundle = json.loads(path.with_suffix(".json").read_text())
    [failure] = bundle["failures"]
    assert failure["test_id"] == "tests/test_pricing.py::test_with_tax_adds_the_tax"
    assert any("80" in line and "120" in line for line in failure["assertion"]), failure["assertion"]
    frames = [frame["qualname"] for frame in failure["frames"]]
    assert frames[0] == "test_with_tax_adds_the_tax"
    with_tax = next(node for node in bundle["nodes"].values() if node["qualname"] == "with_tax")
    assert with_tax["signature"] == "def with_tax(amount, tax)"
    assert {site["caller"] for site in with_tax["callers"]} == {"invoice", "test_with_tax_adds_the_tax"}
    assert isinstance(with_tax["similar"], list) and isinstance(with_tax["callees"], list)
    text = path.read_text()
    assert "## tests/test_pricing.py::test_with_tax_adds_the_tax" in text and "`def with_tax(amount, tax)`" in text


def test_demo2_api_change_impact(demo: Path) -> None:
    edit(demo, "shop/pricing.py", "def total(items, rate=0.0):", "def total(items, rate=0.0, tax=0.0):")
    done = run_cli("update", "--root", str(demo))
    assert done.returncode == 0, done.stderr
    assert "API change: def total(items, rate=0.0) -> def total(items, rate=0.0, tax=0.0)" in done.stdout
    for site in ("shop/pricing.py:35 in Cart.checkout", "shop/report.py:8 in summary", "shop/report.py:12 in invoice",
                 "tests/test_pricing.py:10 in test_total_sums"):
        assert f"call site {site}" in done.stdout, done.stdout
    markdown = (demo / ".agentfs/nodes/shop/pricing.py/total.md").read_text()
    assert "## API change impact" in markdown and "shop/report.py:12 in `invoice`" in markdown
    state = json.loads(run_cli("state", "total", "--json", "--root", str(demo)).stdout)
    assert state["freshness"] == "fresh" and len(state["state"]["impact"]["call_sites"]) == 4
    store = Store.open(demo)
    try:
        [impact] = EventLog(store.connection).by_type("ApiImpact")
        assert impact.agent_ref() == state["id"] and len(impact.model_dump()["call_sites"]) == 4
    finally:
        store.close()


def test_demo3_test_creation_and_verification(demo: Path) -> None:
    edit(demo, "shop/report.py", "def invoice(items, tax):", "def count(items):\n    return len(items)\n\n\ndef invoice(items, tax):")
    done = run_cli("update", "--root", str(demo))
    assert done.returncode == 0, done.stderr
    assert "test skeleton: .agentfs/tests/test_shop_report_count.py" in done.stdout
    assert "test .agentfs/tests/test_shop_report_count.py::test_count_is_importable: passed" in done.stdout
    assert not (demo / "tests" / "test_shop_report_count.py").exists()
    markdown = (demo / ".agentfs/nodes/shop/report.py/count.md").read_text()
    assert "test_count_is_importable` (skeleton): passed" in markdown
    shown = run_cli("state", "count", "--root", str(demo))
    assert "(skeleton): passed" in shown.stdout and "[fresh]" in shown.stdout
    offered = json.loads(run_cli("state", "count", "--json", "--propose-test", "--root", str(demo)).stdout)
    proposal = offered["proposal"]
    approved = run_cli("approve", proposal, "--root", str(demo))
    assert approved.returncode == 0, approved.stderr
    text = (demo / "tests" / "test_report.py").read_text()
    assert "def test_count_is_importable() -> None:" in text and "from shop.report import count" in text
    assert _pytest(demo, "tests/test_report.py").returncode == 0
    store = Store.open(demo)
    try:
        log = EventLog(store.connection)
        assert "passed" in log.by_type("TestRun")[-1].model_dump()["outcome"]
        assert log.by_type("RewriteProposal")[-1].model_dump()["proposal_id"] == proposal
    finally:
        store.close()
