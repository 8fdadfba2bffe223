"""Extension discovery in .remora/models/ and the hydrated base prompt."""

from __future__ import annotations

import textwrap
from pathlib import Path

from remora_core.agents.context import LocalAgentContext
from remora_core.agents.core_tools import CORE_TOOL_NAMES
from remora_core.agents.extensions import discover_extensions
from remora_core.agents.node import ASTAgentNode, hydrate_agent
from remora_core.agents.proposals import ProposalStore
from tests.fake_llm import indexed_project, node_id_of

GOOD = '''
from remora_core.agents import ExtensionNode, tool


class ConfigHandler(ExtensionNode):
    """Handles Config* classes."""

    match_type = "class"
    match_pattern = "Config*"
    system_prompt = "You are a configuration specialist."

    def get_workspaces(self) -> str:
        return "- .env.template (read-only)"

    @tool
    async def read_env(self, key: str) -> str:
        """Read an environment variable.

        Args:
            key: The variable name.
        """
        return f"value of {key}"


class AnyClass(ExtensionNode):
    match_type = "class"
    system_prompt = "generic class helper"
    priority = -1


class Important(ExtensionNode):
    match_type = "class"
    match_pattern = "ConfigLoader"
    priority = 10
    system_prompt = "the important one"
'''

BROKEN = """
from remora_core.agents import ExtensionNode

VALUE = 1
raise RuntimeError("user bug")
"""

SYNTAX = "class Oops(:\n    pass\n"

CODE = {
    "app.py": """
        class ConfigStore:
            def get(self, key):
                return lookup(key)


        class ConfigLoader:
            pass


        class Other:
            pass


        def lookup(key):
            return key
        """,
}


def _models(root: Path, files: dict[str, str]) -> None:
    directory = root / ".remora" / "models"
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(textwrap.dedent(text), encoding="utf-8")


def test_discovery_reports_broken_files_and_keeps_the_others(tmp_path: Path) -> None:
    _models(tmp_path, {"a_broken.py": BROKEN, "b_good.py": GOOD, "c_syntax.py": SYNTAX})
    registry = discover_extensions(tmp_path)
    assert [cls.__name__ for cls in registry.extensions] == ["Important", "ConfigHandler", "AnyClass"]
    assert len(registry.problems) == 2
    broken, syntax = registry.problems
    assert "a_broken.py' line 5" in broken and "RuntimeError: user bug" in broken
    assert "c_syntax.py' line 1" in syntax and "SyntaxError" in syntax


def test_matching_by_type_pattern_and_priority(tmp_path: Path) -> None:
    _models(tmp_path, {"good.py": GOOD})
    registry = discover_extensions(tmp_path)
    assert registry.match("class", "ConfigLoader").__name__ == "Important"
    assert registry.match("class", "ConfigStore").__name__ == "ConfigHandler"
    assert registry.match("class", "Other").__name__ == "AnyClass"
    assert registry.match("function", "ConfigStore") is None
    assert discover_extensions(tmp_path / "missing").extensions == []


async def test_hydrated_prompt_with_extension_and_provider(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    store = indexed_project(root, CODE)
    _models(root, {"good.py": GOOD})
    registry = discover_extensions(root)
    get = node_id_of(store, "ConfigStore.get")
    lookup = node_id_of(store, "lookup")
    config_store = node_id_of(store, "ConfigStore")

    agent = hydrate_agent(
        root, store, get, registry=registry, providers=[lambda node: f"# Node State\n{node.name} is idle"]
    )
    prompt = agent.node.system_prompt()
    assert prompt.startswith("You are an autonomous AI agent embodying a Python method: `ConfigStore.get`")
    assert f"- Node ID: {get}" in prompt
    assert f"- Parent: {config_store} (class ConfigStore" in prompt
    assert f"- You call: {lookup} (function lookup, app.py:" in prompt
    assert "    def get(self, key):" in prompt and "return lookup(key)" in prompt
    assert "# Node State\nget is idle" in prompt
    assert prompt.index("# Node State") < prompt.index("# Core Rules")
    assert agent.extension is None

    callee = hydrate_agent(root, store, lookup).node.system_prompt()
    assert f"- Called by: {get} (method ConfigStore.get" in callee

    hydrated = hydrate_agent(root, store, config_store, registry=registry)
    node = hydrated.node
    assert node.custom_system_prompt == "You are a configuration specialist."
    assert node.mounted_workspaces == "- .env.template (read-only)"
    assert node.tools == [*CORE_TOOL_NAMES, "read_env"]
    context = LocalAgentContext(config_store, root, store, ProposalStore(store, root))
    tools = hydrated.toolset(context)
    assert tools.names == [*CORE_TOOL_NAMES, "read_env"]
    assert (await tools.call("read_env", '{"key": "HOME"}')).text == "value of HOME"
    store.close()


def test_base_prompt_defaults() -> None:
    node = ASTAgentNode(
        remora_id="rm_abcdefgh",
        node_type="function",
        name="f",
        file_path="a.py",
        start_line=1,
        end_line=2,
        source_code="def f():\n    pass\n",
    )
    prompt = node.system_prompt()
    assert "- Parent: None (top-level)" in prompt
    assert "- Called by: None" in prompt and "# Custom Instructions\nNone" in prompt
    assert "4. All edits are proposals until the human approves." in prompt


def test_project_example_model_loads() -> None:
    repo = Path(__file__).resolve().parents[1]
    registry = discover_extensions(repo)
    assert registry.problems == []
    assert any(cls.__name__ == "ConfigSpecialist" for cls in registry.extensions)
