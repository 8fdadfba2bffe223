"""Python's cyclic garbage collector paused for a big index pass.

A cold index allocates millions of small objects that form no reference cycles (rows, tuples,
strings): the collector's full passes over them found nothing and cost a sixth of the pass.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Below this many files a pass allocates too little for the collector to matter.
GC_PAUSE_MIN_FILES = 100


@contextmanager
def paused_gc(pause: bool = True) -> Iterator[None]:
    """No automatic collection inside the block (objects alive before it are frozen out of
    later collections' way meanwhile); the collector's previous state after it.

    On the way out every tracked object, those the block allocated and kept included (a symbol
    table: millions), goes to the oldest generation without a collection (``freeze`` then
    ``unfreeze``): enabled with all of them young, the collector would traverse them all at the
    next allocation (0.15-0.2 s after a stdlib index)."""
    if not pause or not gc.isenabled():
        yield
        return
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.unfreeze()
        gc.enable()
