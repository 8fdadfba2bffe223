"""The one activation rule (``agents.activation``, the design's): a target already on the
activation path of its correlation is refused, so is a path at ``max_depth``; a reply takes the
target off the path; the rows make the check hold across connections (processes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from remora_core.agents import activation
from remora_core.agents.activation import ActivationRefusedError, activation_edges
from remora_core.store.store import Store


def test_path_rule_across_connections(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    other = Store.open(tmp_path)  # as if another process
    conn = store.connection
    path = activation.enter(conn, "corr", (), "a", 5)
    path = activation.enter(conn, "corr", path, "b", 5)
    with pytest.raises(ActivationRefusedError, match="would create a cycle: a -> b -> a"):
        activation.enter(conn, "corr", path, "a", 5)
    with pytest.raises(ActivationRefusedError, match="'b' is already active in correlation 'corr'"):
        activation.enter(other.connection, "corr", ("x",), "b", 5)
    assert activation.active_path(other.connection, "corr") == ["a", "b"]
    activation.enter(conn, "other", (), "a", 5)  # another correlation is independent
    activation.leave(conn, "corr", "b")  # b answered: a may message b again
    assert activation.enter(conn, "corr", ("a",), "b", 5) == ("a", "b")
    with pytest.raises(ActivationRefusedError, match="max activation depth 2 reached"):
        activation.enter(conn, "corr", ("a", "b"), "c", 2)
    assert activation_edges(other.connection, "corr") == [("a", "b")]
    assert activation.clear(conn, "corr") == 2
    assert activation.active_path(conn, "corr") == []
    other.close()
    store.close()
