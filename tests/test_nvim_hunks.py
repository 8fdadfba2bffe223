"""Per-hunk accept without Neovim: the hunks of a proposal and the source with some of them applied."""

from __future__ import annotations

import itertools

from remora_core.agents.hunks import diff_hunks, partial_source

OLD = "\n".join(f"line {i}" for i in range(30)) + "\n"
NEW = OLD.replace("line 1\n", "line one\n").replace("line 15\n", "").replace("line 28\n", "line 28\nextra\n")


def test_hunks_are_unified_diff_groups() -> None:
    hunks = diff_hunks(OLD, NEW)
    assert [h.header for h in hunks] == ["@@ -1,5 +1,5 @@", "@@ -13,7 +13,6 @@", "@@ -27,5 +26,6 @@"]
    assert hunks[0].lines[:3] == [" line 0", "-line 1", "+line one"]
    assert "-line 15" in hunks[1].lines and not any(line.startswith("+") for line in hunks[1].lines)
    assert "+extra" in hunks[2].lines


def test_partial_source_applies_exactly_the_kept_hunks() -> None:
    assert partial_source(OLD, NEW, {0, 1, 2}) == NEW
    assert partial_source(OLD, NEW, set()) == OLD
    for size in (1, 2):
        for keep in itertools.combinations(range(3), size):
            text = partial_source(OLD, NEW, set(keep))
            assert ("line one" in text) is (0 in keep)
            assert ("line 15\n" not in text) is (1 in keep)
            assert ("extra" in text) is (2 in keep)
            # Applying the rest on top gives the full new source.
            rest = set(range(3)) - set(keep)
            assert partial_source(text, NEW, {h.index for h in diff_hunks(text, NEW)}) == NEW
            assert len(diff_hunks(text, NEW)) == len(rest)


def test_identical_sources_have_no_hunks() -> None:
    assert diff_hunks(OLD, OLD) == []
    assert partial_source(OLD, OLD, set()) == OLD
