"""An inverted index (word -> keys) over a table that changes one key at a time.

The resolver asks "which files spell one of these names" on every interface change; scanning
every file for that is what made a save's cost grow with the project. The index is built on
the first lookup (a cold index never pays for it) and then kept in step: a changed key is
dropped at once and re-read on the next lookup."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable


class WordIndex:
    """``words_of(key)`` gives a key's words (None: the key is gone); ``changed(key)`` must be
    called whenever what ``words_of`` returns for a key may have changed."""

    def __init__(self, words_of: Callable[[str], Iterable[str] | None]) -> None:
        self._words_of = words_of
        # word -> its key, or its keys when several (most words have one: a set each would
        # cost the hub tens of MB on a stdlib-size tree); None until the first lookup.
        self._keys: dict[str, str | set[str]] | None = None
        # key -> the words it is filed under (interned: one string per word however many keys)
        self._indexed: dict[str, tuple[str, ...]] = {}
        self._pending: set[str] = set()

    @property
    def built(self) -> bool:
        return self._keys is not None

    def changed(self, key: str) -> None:
        if self._keys is None:
            return
        for word in self._indexed.pop(key, ()):
            holders = self._keys[word]
            if isinstance(holders, str):
                del self._keys[word]
                continue
            holders.discard(key)
            if len(holders) == 1:
                self._keys[word] = next(iter(holders))
        self._pending.add(key)

    def build(self, keys: Iterable[str]) -> None:
        """File every one of ``keys`` (all the table holds) now."""
        if self._keys is None:
            self._keys = {}
            self._pending.update(keys)
        self._flush()

    def lookup(self, words: Iterable[str], keys: Callable[[], Iterable[str]]) -> set[str]:
        """The keys filed under any of ``words``; ``keys`` lists the whole table (first lookup)."""
        if self._keys is None:
            self.build(keys())
        else:
            self._flush()
        assert self._keys is not None
        found: set[str] = set()
        for word in words:
            holders = self._keys.get(word)
            if isinstance(holders, str):
                found.add(holders)
            elif holders is not None:
                found |= holders
        return found

    def _flush(self) -> None:
        assert self._keys is not None
        for key in self._pending:
            words = self._words_of(key)
            if words is None:
                continue
            filed = tuple({sys.intern(word) for word in words})
            if not filed:
                continue  # most nodes have no bases: nothing to file, nothing to keep
            self._indexed[key] = filed
            for word in filed:
                holders = self._keys.get(word)
                if holders is None:
                    self._keys[word] = key
                elif isinstance(holders, str):
                    if holders != key:
                        self._keys[word] = {holders, key}
                else:
                    holders.add(key)
        self._pending.clear()
