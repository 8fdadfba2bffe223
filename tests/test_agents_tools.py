"""Tool schemas from signatures + docstrings, and bad calls returned as tool results."""

from __future__ import annotations

from typing import Literal

import pytest

from remora_core.agents.context import LocalAgentContext
from remora_core.agents.core_tools import CORE_TOOL_NAMES, CoreTools
from remora_core.agents.errors import ToolDefinitionError
from remora_core.agents.tools import ToolSet, collect_tools, parse_docstring, tool, tool_schemas


@tool
async def search(query: str, limit: int = 5, mode: Literal["exact", "fuzzy"] = "exact") -> list[str]:
    """Search the project.

    Longer explanation of the search.

    Args:
        query: What to look for.
        limit: How many results at most,
            counted after filtering.
        mode: Matching mode.

    Returns:
        The matches.
    """
    return [query] * limit


class Box:
    def __init__(self) -> None:
        self.seen: list[str] = []

    @tool
    def put(self, item: str) -> str:
        """Put an item in the box.

        Args:
            item: The item.
        """
        self.seen.append(item)
        return f"stored {item}"

    @tool(name="explode")
    def crash(self) -> str:
        """Always fails."""
        raise ValueError("kaboom")


def test_schema_from_signature_and_docstring() -> None:
    (schema,) = tool_schemas([search])
    assert schema["type"] == "function"
    function = schema["function"]
    assert function["name"] == "search"
    assert function["description"] == "Search the project.\n\nLonger explanation of the search."
    params = function["parameters"]
    assert params["type"] == "object" and params["required"] == ["query"]
    assert params["properties"]["query"] == {"type": "string", "description": "What to look for."}
    assert (
        params["properties"]["limit"]["description"] == "How many results at most, counted after filtering."
    )
    assert params["properties"]["limit"]["default"] == 5
    assert params["properties"]["mode"]["enum"] == ["exact", "fuzzy"]


async def test_methods_are_bound_and_self_is_not_a_parameter() -> None:
    box = Box()
    tools = ToolSet(collect_tools(box))
    assert tools.names == ["put", "explode"]
    assert tools.schemas()[0]["function"]["parameters"]["properties"] == {
        "item": {"type": "string", "description": "The item."}
    }
    result = await tools.call("put", '{"item": "apple"}')
    assert result.ok and result.text == "stored apple" and box.seen == ["apple"]


@pytest.mark.parametrize(
    ("name", "arguments", "expected"),
    [
        ("search", '{"limit": 2}', "query: Field required"),
        ("search", '{"query": "x", "limit": "many"}', "limit: Input should be a valid integer"),
        ("search", '{"query": "x", "mode": "regex"}', "mode: Input should be 'exact' or 'fuzzy'"),
        ("search", '{"query": "x", "bogus": 1}', "bogus: Extra inputs are not permitted"),
        ("search", '{"query": "x"', "not valid JSON"),
        ("search", "[1, 2]", "must be a JSON object"),
        ("nope", "{}", "unknown tool 'nope'; available tools: search, explode"),
        ("explode", "{}", "tool 'explode' failed: ValueError: kaboom"),
    ],
)
async def test_bad_calls_become_tool_results(name: str, arguments: str, expected: str) -> None:
    tools = ToolSet([search, *[t for t in collect_tools(Box()) if t.spec.name == "explode"]])
    result = await tools.call(name, arguments)
    assert not result.ok
    assert result.text.startswith("error:") and expected in result.text


async def test_good_call_result_is_json_for_non_strings() -> None:
    result = await ToolSet([search]).call("search", {"query": "a", "limit": 2})
    assert result.ok and result.text == '["a", "a"]'


def test_core_tool_schemas_for_the_ui(tmp_path) -> None:
    tools = collect_tools(CoreTools(LocalAgentContext("rm_00000000", tmp_path, None, None)))  # type: ignore[arg-type]
    schemas = {entry["function"]["name"]: entry["function"] for entry in tool_schemas(tools)}
    assert tuple(schemas) == CORE_TOOL_NAMES
    new_node = schemas["propose_new_node"]["parameters"]
    assert new_node["required"] == ["node_type", "name", "source"]
    assert new_node["properties"]["node_type"]["enum"] == ["function", "method", "class"]
    assert (
        "Do NOT include the remora ID"
        in schemas["rewrite_self"]["parameters"]["properties"]["new_source"]["description"]
    )


def test_docstring_parser_handles_no_args_section() -> None:
    assert parse_docstring("Just a summary.") == ("Just a summary.", {})
    assert parse_docstring(None) == ("", {})


def test_unschemable_signature_is_a_definition_error() -> None:
    with pytest.raises(ToolDefinitionError, match="'bad'"):

        @tool
        def bad(*items: str) -> None:
            """Varargs."""
