"""The Lua UI's layout rules (issue #10 §6): no require cycle, views never call RPC or their
controllers, every message goes through remora.notify."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LUA = REPO / "lua"
REQUIRE = re.compile(r"""require\(?\s*["'](remora(?:\.[a-z_]+)*)["']""")


def module_name(path: Path) -> str:
    rel = path.relative_to(LUA).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "init":
        parts.pop()
    return ".".join(parts)


def lua_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(LUA.rglob("*.lua"))}


def require_graph() -> dict[str, set[str]]:
    modules = lua_modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found = set(REQUIRE.findall(path.read_text(encoding="utf-8")))
        graph[name] = {target for target in found if target != name}
        unknown = graph[name] - set(modules)
        assert not unknown, f"{name} requires unknown modules {sorted(unknown)}"
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return stack[stack.index(target):] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_no_require_cycle() -> None:
    # Any require anywhere in a file counts (lazy ones too): the modules form a DAG.
    assert find_cycle(require_graph()) is None, " -> ".join(find_cycle(require_graph()) or [])


def test_the_cycle_finder_finds_cycles() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_feature_folders_and_views() -> None:
    modules = lua_modules()
    for folder in ("panel", "tools", "ghost", "events"):
        assert f"remora.{folder}" in modules and f"remora.{folder}.view" in modules, folder
    graph = require_graph()
    views = [name for name in modules if name.endswith(".view") or name.startswith("remora.ui.")]
    for view in views:
        text = modules[view].read_text(encoding="utf-8")
        assert "remora.rpc" not in graph[view] and "RemoraCall" not in text and "RemoraNotify" not in text, view
        controller = view.rsplit(".", 1)[0]
        assert controller not in graph[view], f"{view} requires its controller {controller}"


def test_messages_go_through_notify() -> None:
    for name, path in lua_modules().items():
        if name == "remora.notify":
            continue
        assert "vim.notify(" not in path.read_text(encoding="utf-8"), f"{name} calls vim.notify directly"
    assert "vim.notify(" not in (REPO / "plugin" / "remora.lua").read_text(encoding="utf-8")
