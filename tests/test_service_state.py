"""A node's hub state over HTTP (``GET /v1/nodes/{id}/state``, real uvicorn subprocess after a real
``remora update``) and in the dashboard's node detail fragment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from remora_core.service import dashboard as ui
from remora_core.service import models as m
from remora_core.store.store import Store
from tests.conftest import run_cli
from tests.fake_llm import indexed_project, node_id_of
from tests.service_helpers import Server, service_config, start_server
from tests.state_helpers import edit

FILES = {
    "pkg/__init__.py": "",
    "pkg/calc.py": '''
        def add(a, b):
            return a + b


        def twice(x):
            if x:
                return add(x, x)
            return 0
    ''',
    "tests/test_calc.py": '''
        from pkg.calc import add


        def test_add():
            assert add(1, 2) == 3
    ''',
}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, str]]]:
    root = tmp_path_factory.mktemp("state") / "proj"
    store = indexed_project(root, FILES)
    store.close()
    rules = '\n[hub.rules]\nbody_changed = ["find_callees", "run_single_test"]\n'  # so the edit runs add's test
    (root / ".remora" / "config.toml").write_text(service_config() + rules, encoding="utf-8")
    done = run_cli("update", "--root", str(root))  # the baseline: states built, no tests run
    assert done.returncode == 0, done.stderr
    edit(root, "pkg/calc.py", "    return a + b", "    total = a + b\n    return total")
    done = run_cli("update", "--root", str(root))  # add changed: its test runs
    assert done.returncode == 0, done.stderr
    (root / "pkg" / "later.py").write_text("def later():\n    return 1\n", encoding="utf-8")
    done = run_cli("index", str(root))  # indexed, but no state built yet
    assert done.returncode == 0, done.stderr
    store = Store.open(root)
    ids = {name: node_id_of(store, name) for name in ("add", "twice", "later")}
    store.close()
    server = start_server(root)
    yield server, ids
    server.stop()


def test_state_route_for_a_node_with_state_and_one_without(served: tuple[Server, dict[str, str]]) -> None:
    server, ids = served
    with server.client(auth=False) as client:
        add = client.get(f"/v1/nodes/{ids['add']}/state")
        assert add.status_code == 200, add.text
        state = add.json()
        assert state["id"] == ids["add"] and state["qualname"] == "add" and state["file"] == "pkg/calc.py"
        assert state["signature"] == "def add(a, b)"
        assert isinstance(state["complexity"], int) and state["complexity_trend"][-1] == state["complexity"]
        assert state["markdown"] and Path(state["markdown"]).is_file()
        assert state["freshness"] == "fresh" and state["source_version"] == state["current_version"]
        [test] = [t for t in state["tests"] if t["test_id"] == "tests/test_calc.py::test_add"]
        assert test["last_result"] == "passed" and test["last_run"] and test["how"] in ("name", "calls")
        twice = client.get(f"/v1/nodes/{ids['twice']}/state").json()
        assert twice["callees"] == 1 and twice["signature"] == "def twice(x)"
        later = client.get(f"/v1/nodes/{ids['later']}/state")
        assert later.status_code == 200
        none = later.json()
        assert none["freshness"] == "missing" and none["signature"] is None and none["tests"] == []
        assert none["markdown"] is None and none["qualname"] == "later"
        missing = client.get("/v1/nodes/rm_zzzzzzzz/state")
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "not_found" and "rm_zzzzzzzz" in missing.json()["error"]["message"]
        fragment = client.get(f"/v1/ui/node/{ids['add']}").text
        assert 'id="node-state"' in fragment and "def add(a, b)" in fragment


def _detail() -> m.NodeDetail:
    return m.NodeDetail(
        id="rm_aaaaaaaa", type="function", name="f", qualname="f", file="m.py", line=1, status="active",
        start_line=1, end_line=2, source="def f(x):\n    return x\n",
    )


def _state(**fields: object) -> m.NodeState:
    base: dict[str, object] = {
        "id": "rm_aaaaaaaa", "type": "function", "qualname": "f", "file": "m.py", "line": 1,
        "hub_state_key": "node:rm_aaaaaaaa:state", "freshness": "missing", "current_version": "abc",
    }
    return m.NodeState.model_validate({**base, **fields})


def test_detail_fragment_shows_the_state_section() -> None:
    state = _state(
        freshness="stale", signature="def f(x)", complexity=3, complexity_trend=[1, 3], summary="Returns <x>.",
        markdown="/p/.agentfs/nodes/m.py/f.md",
        tests=[{"test_id": "tests/test_m.py::test_f", "how": "name", "last_result": "failed"}],
    )
    html = ui.detail_html(_detail(), state)
    section = html[html.index('<div id="node-state"'):]
    assert 'data-freshness="stale"' in section and "def f(x)" in section
    assert "complexity: 3 (trend 1 → 3)" in section and "Returns &lt;x&gt;." in section
    assert "tests/test_m.py::test_f (name): <b>failed</b>" in section and "/p/.agentfs/nodes/m.py/f.md" in section
    missing = ui.detail_html(_detail(), _state())
    assert 'data-freshness="missing"' in missing and "No state yet" in missing
    assert 'id="node-state"' not in ui.detail_html(_detail())
