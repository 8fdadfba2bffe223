"""Pure parts of the small-model support: reading calls from text, the code-block fallback, the
lenient argument parser, request classification."""

from __future__ import annotations

import json

import pytest

from remora_core.agents.recovery import code_block_rewrite, find_text_calls, strip_anchors
from remora_core.agents.strategy import classify_request
from remora_core.agents.tools import parse_arguments
from remora_core.cli import build_parser


def test_forms_seen_in_practice() -> None:
    (tag,) = find_text_calls('<tool_call>\n{"name": "read_node", "arguments": {"target_id": "rm_aaaaaaaa"}}\n</tool_call>')
    assert (tag.name, json.loads(tag.arguments), tag.form) == ("read_node", {"target_id": "rm_aaaaaaaa"}, "tool_call_tag")
    (unclosed,) = find_text_calls('<tool_call>{"name": "get_my_callers", "arguments": {}}')
    assert unclosed.name == "get_my_callers"
    (bare,) = find_text_calls('functions.ask_parent:')
    assert (bare.name, bare.arguments, bare.form) == ("ask_parent", "{}", "functions_prefix")
    (prefixed,) = find_text_calls('functions.ask_parent: {"request": "help"}')
    assert json.loads(prefixed.arguments) == {"request": "help"}
    twice = json.dumps({"name": "rewrite_self", "arguments": json.dumps({"new_source": "def f():\n    pass\n"})})
    (decoded,) = find_text_calls(twice)
    assert json.loads(decoded.arguments) == {"new_source": "def f():\n    pass\n"}
    raw = '{"name": "rewrite_self", "arguments": {"new_source": "def f():\n    pass\n"}}'  # raw newline
    assert json.loads(find_text_calls(raw)[0].arguments)["new_source"] == "def f():\n    pass\n"
    several = find_text_calls('{"name": "a", "arguments": {}}\ntext\n{"name": "b", "parameters": {"x": 1}}')
    assert [(c.name, json.loads(c.arguments)) for c in several] == [("a", {}), ("b", {"x": 1})]


@pytest.mark.parametrize(
    "text",
    [None, "", "I added the hints.", 'The user {"name": "Bob"} object.', "def f(): return {1: 2}", "[1, 2, 3]"],
)
def test_plain_text_holds_no_call(text: str | None) -> None:
    assert find_text_calls(text) == []


def test_code_block_rewrite() -> None:
    current = "def total(prices, tax):" + " " * 100 + "# rm_abcdefgh\n    return sum(prices) * tax\n"
    reply = "```python\nimport math\nfrom typing import List\n\n@cache\ndef total(prices: List[float], tax: float) -> float:\n    return sum(prices) * tax\n```"
    rewrite = code_block_rewrite(reply, "total", current)
    assert rewrite is not None and not rewrite.unchanged
    assert rewrite.imports == ["import math", "from typing import List"]
    assert rewrite.new_source.startswith("@cache\ndef total(prices: List[float]")
    same = code_block_rewrite("```\ndef total(prices, tax):\n    return sum(prices) * tax\n```", "total", current)
    assert same is not None and same.unchanged
    method = code_block_rewrite("```python\n    def load(self) -> str:\n        return ''\n```", "load", "def load(self):\n    return ''\n")
    assert method is not None and method.new_source.startswith("def load(self) -> str:")
    assert code_block_rewrite("```python\ndef other(): pass\n```", "total", current) is None
    assert code_block_rewrite("```python\ndef total(: pass\n```", "total", current) is None
    assert code_block_rewrite("```python\ndef total(): pass\n```\n```python\ndef total(): pass\n```", "total", current) is None
    assert strip_anchors(current) == "def total(prices, tax):\n    return sum(prices) * tax\n"


def test_lenient_arguments() -> None:
    assert parse_arguments(None) == {} and parse_arguments("  ") == {}
    assert parse_arguments('{"a": "x\ny"}') == {"a": "x\ny"}
    assert parse_arguments(json.dumps(json.dumps({"a": 1}))) == {"a": 1}
    assert parse_arguments("[1]") == "must be a JSON object, not list"
    assert str(parse_arguments("{nope")).startswith("are not valid JSON")


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("add type hints", "edit"),
        ("Add type hints to all methods", "edit"),
        ("fix the off-by-one", "edit"),
        ("The human rejected your proposal 'pr_x' with this feedback:\nask rm_bbbbbbbb", "edit"),
        ("Ask rm_bbbbbbbb (add_tax) to validate that tax is not negative.", "delegate"),
        ("tell your parent about it", "delegate"),
        ("what does this return?", "other"),
        ("hello", "other"),
    ],
)
def test_request_kinds(message: str, kind: str) -> None:
    assert classify_request(message, "rm_aaaaaaaa") == kind


def test_chat_new_flag_parses() -> None:
    args = build_parser().parse_args(["chat", "rm_aaaaaaaa", "hi", "--new"])
    assert args.new is True
    assert build_parser().parse_args(["doctor", "--json"]).json is True


def test_a_tool_the_request_names_is_offered_and_forced() -> None:
    from remora_core.agents.node import ASTAgentNode
    from remora_core.agents.strategy import turn_policy
    from remora_core.config import LLMConfig, RemoraConfig

    node = ASTAgentNode(
        remora_id="rm_aaaaaaaa", node_type="function", name="f", file_path="m.py", start_line=1, end_line=2, source_code="def f(): pass\n"
    )
    names = ["rewrite_self", "message_node", "ask_parent", "get_my_callers", "get_my_callees", "read_node", "propose_new_node"]
    config = RemoraConfig(llm=LLMConfig(tool_choice="per_step"))
    ghost = turn_policy(config, node, "Write a new function. Create it by calling propose_new_node.", names)
    assert ghost.force_tool == "propose_new_node" and ghost.tool_names is not None and "propose_new_node" in ghost.tool_names
    edit = turn_policy(config, node, "add type hints", names)
    assert edit.force_tool == "rewrite_self" and edit.tool_names == ("rewrite_self", "message_node", "read_node")
    question = turn_policy(config, node, "what is this?", names)
    assert question.force_tool is None and question.tool_names is None and question.short_schemas


def test_markdown_new_source_cut_off_is_salvaged() -> None:
    from remora_core.agents.recovery import salvage_new_source

    current = "def total(prices, tax):\n    return prices\n"
    arguments = (
        '{"new_source": "```python\ndef total(prices, tax):\n    return prices\n```\n\nNow with hints:\n\n'
        '```python\ndef total(prices: list, tax):\n    return prices\n```\n\nThis would make it easier to'
    )
    fixed = salvage_new_source(arguments, "total", current)
    assert fixed is not None and json.loads(fixed) == {"new_source": "def total(prices: list, tax):\n    return prices\n"}
    assert salvage_new_source('{"new_source": "def total(): pass"}', "total", current) is None


def test_markdown_new_source_cut_off_with_escaped_newlines_is_salvaged() -> None:
    """A grammar-forced call (llama-cpp-python) writes valid escapes, then stops at max_tokens."""
    from remora_core.agents.recovery import salvage_new_source

    current = "def total(prices, tax):\n    return prices\n"
    whole = json.dumps({"new_source": "Sure!\n```python\ndef total(prices: list, tax: float):\n    return prices\n```\nThis adds"})
    for cut in (whole[:-2], whole[:-2] + "\\", whole[:-2] + "\\u00"):
        fixed = salvage_new_source(cut, "total", current)
        assert fixed is not None and json.loads(fixed)["new_source"].startswith("def total(prices: list, tax: float):")
