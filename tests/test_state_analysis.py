"""Pure parts of the node-state hub: facts of a node's text, drift, diff bundles, every rule."""

from __future__ import annotations

import pytest

from remora_core.config import HubConfig, HubRulesConfig, parse_config
from remora_core.errors import ConfigError
from remora_core.hub.state.analysis import facts
from remora_core.hub.state.diffs import build_bundle
from remora_core.hub.state.drift import lexical_distance
from remora_core.hub.state.rules import SIGNALS, evaluate, signals_of

METHOD = '''    @staticmethod
    def scale(values: list[int], factor: int = 2) -> list[int]:
        """Scale values."""
        return [v * factor for v in values if v]
'''


def test_facts_of_an_indented_method_with_decorators() -> None:
    found = facts(METHOD, "method")
    assert found.signature == "def scale(values: list[int], factor: int=2) -> list[int]"
    assert found.decorators == ["staticmethod"]
    assert found.parameters == {"values": "list[int]", "factor": "int"}
    assert found.docstring == "Scale values."
    assert found.complexity == 3  # 1 + comprehension + its if
    assert found.control_flow["loops"] == 1 and found.control_flow["returns"] == 1


def test_complexity_and_control_flow_counts() -> None:
    source = (
        "async def f(x):\n"
        "    try:\n"
        "        while x and x > 1:\n"
        "            if x % 2:\n"
        "                x = await g(x)\n"
        "            else:\n"
        "                raise ValueError(x)\n"
        "    except KeyError:\n"
        "        return None\n"
        "    return x\n"
    )
    found = facts(source, "function")
    assert found.signature == "async def f(x)"
    assert found.complexity == 1 + 1 + 1 + 1 + 1  # while, and, if, except
    flow = found.control_flow
    assert (flow["loops"], flow["branches"], flow["try"], flow["raises"], flow["awaits"], flow["returns"]) == (1, 1, 1, 1, 1, 2)
    assert flow["max_nesting"] == 3


def test_exports_prefer_dunder_all_then_public_names() -> None:
    assert facts('__all__ = ["a", "b"]\ndef a(): pass\ndef c(): pass\n', "file").exports == ["a", "b"]
    assert facts("X = 1\n_y = 2\ndef a(): pass\nclass B: pass\n", "file").exports == ["X", "a", "B"]


def test_a_fragment_that_does_not_parse_gives_no_facts() -> None:
    assert not facts("def broken(:\n    pass\n", "function").parsed


def test_lexical_distance_is_deterministic_and_bounded() -> None:
    assert lexical_distance("def f(a):\n    return a\n", "def f(a):\n    return a\n") == 0.0
    far = lexical_distance("def f(alpha):\n    return alpha\n", "def f(beta):\n    gamma(beta)\n")
    assert 0.5 < far <= 1.0
    assert far == lexical_distance("def f(alpha):\n    return alpha\n", "def f(beta):\n    gamma(beta)\n")


def test_bundle_of_a_signature_change() -> None:
    old = "def add(a, b):\n    return a + b\n"
    new = "def add(a: int, b, c=0) -> int:\n    if c:\n        return a + b + c\n    return a + b\n"
    bundle = build_bundle("rm_x", "function", "add", "add", old, new)
    assert bundle.kind == "changed" and bundle.public
    assert bundle.structural.signature_changed
    assert "parameter 'c' added" in bundle.structural.changes
    assert "annotation of 'a': - -> int" in bundle.structural.changes
    assert "return annotation: - -> int" in bundle.structural.changes
    assert bundle.ast.complexity_delta == 1 and bundle.ast.control_flow_delta == {"branches": 1, "returns": 1, "max_nesting": 1}
    assert bundle.standard.added_lines == 3 and bundle.standard.removed_lines == 1
    assert bundle.semantic.method == "lexical" and bundle.semantic.distance > 0
    assert "unified" not in bundle.brief()["standard"]


def test_bundle_of_a_new_node() -> None:
    bundle = build_bundle("rm_x", "function", "_helper", "_helper", None, "def _helper():\n    pass\n")
    assert bundle.kind == "added" and not bundle.public and bundle.structural.new_signature == "def _helper()"


def _bundle(old: str | None, new: str, node_type: str = "function", name: str = "f"):  # type: ignore[no-untyped-def]
    return build_bundle("rm_x", node_type, name, name, old, new)


RULE_CASES = {
    "added": (None, "def f():\n    return 1\n", "function", "f", True),
    "body_changed": ("def f():\n    return 1\n", "def f():\n    return 2\n", "function", "f", True),
    "signature_changed": ("def _f(a):\n    return a\n", "def _f(a, b):\n    return a\n", "function", "_f", True),
    "public_api_changed": ("def f(a):\n    return a\n", "def f(a, b):\n    return a\n", "function", "f", True),
    "complexity_changed": ("def f(a):\n    return a\n", "def f(a):\n    return a if a else 0\n", "function", "f", True),
    "control_flow_changed": ("def f(a):\n    return a\n", "def f(a):\n    if a:\n        return a\n    return 0\n", "function", "f", True),
    "semantic_drift": ("def f(a):\n    return a\n", "def f(a):\n    total = compute(a)\n    log(total)\n", "function", "f", True),
    "missing_test": ("def f():\n    return 1\n", "def f():\n    return 2\n", "function", "f", False),
    "exports_changed": ("def a():\n    pass\n", "def a():\n    pass\ndef b():\n    pass\n", "file", "m.py", True),
}


@pytest.mark.parametrize("signal", SIGNALS)
def test_every_rule_maps_its_signal_to_its_configured_updates(signal: str) -> None:
    old, new, node_type, name, has_tests = RULE_CASES[signal]
    config = HubConfig()
    outcome = evaluate(_bundle(old, new, node_type, name), config, has_tests=has_tests)
    assert signal in outcome.signals
    for update in getattr(config.rules, signal):
        assert update in outcome.candidates
        assert signal in outcome.because[update]
    # the rules are data: another mapping in config changes the candidates
    custom = HubConfig(rules=HubRulesConfig(**{signal: ["list_exports"]}))
    assert "list_exports" in evaluate(_bundle(old, new, node_type, name), custom, has_tests=has_tests).candidates


def test_no_signal_fires_without_reason() -> None:
    same = "def _f(a):\n    return a\n"
    assert signals_of(_bundle(same, same, name="_f"), HubConfig(), has_tests=True) == ["body_changed"]


def test_thresholds_come_from_config() -> None:
    old, new = "def f(a):\n    return a\n", "def f(a):\n    return a if a else 0\n"
    assert "complexity_changed" not in signals_of(_bundle(old, new), HubConfig(complexity_threshold=2), has_tests=True)
    assert "semantic_drift" not in signals_of(_bundle(old, new), HubConfig(drift_threshold=1.0), has_tests=True)


def test_rules_config_refuses_an_unknown_update_name(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="hub.rules.added"):
        parse_config({"hub": {"rules": {"added": ["make_coffee"]}}}, tmp_path / "config.toml")
    with pytest.raises(ConfigError, match="unknown key 'hub.rules.sometimes'"):
        parse_config({"hub": {"rules": {"sometimes": []}}}, tmp_path / "config.toml")
