"""The collector paused for a big index pass: off inside, back after, nothing leaked."""

from __future__ import annotations

import gc
import weakref

from remora_core.index.gcpause import paused_gc


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector frees it


def test_the_pass_runs_without_collections_and_leaves_its_objects_old_and_collectable() -> None:
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        kept = [[index] for index in range(50_000)]  # what a pass keeps (the symbol table)
        garbage = Node()
        gone = weakref.ref(garbage)
        del garbage
        assert gone() is not None  # not collected inside
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
    # What the pass kept is in the oldest generation: the next allocations do not make the
    # collector traverse it as young objects.
    assert gc.get_count()[0] < 1_000
    gc.collect()
    assert gone() is None  # a cycle made inside is still collected
    assert len(kept) == 50_000


def test_a_small_pass_or_a_disabled_collector_is_left_alone() -> None:
    with paused_gc(False):
        assert gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
