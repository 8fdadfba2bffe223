"""One index pass of the hub and the ``TopologyChangedEvent``s it emits (one per changed file)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from remora_core.config import IndexConfig
from remora_core.events.models import TopologyChangedEvent
from remora_core.events.store import EventLog
from remora_core.events.topology import index_with_events
from remora_core.fileio import link_on_path
from remora_core.index.discovery import discover
from remora_core.index.indexer import Indexer, IndexReport
from remora_core.languages import is_source
from remora_core.parsing.incremental import IncrementalParser
from remora_core.store.store import Store


@dataclass(slots=True)
class PassResult:
    report: IndexReport
    events: list[TopologyChangedEvent] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)  # the paths looked at (None = full pass)


class HubIndexer:
    """Owns the long-lived ``Indexer`` (it caches the symbol table) and the event log writer."""

    def __init__(self, root: Path, store: Store, config: IndexConfig) -> None:
        self.root = root
        self.store = store
        self.config = config
        self.indexer = Indexer(root, store, config)
        self.parser = IncrementalParser()  # a save usually touches one statement: reuse the rest
        self.indexer.source_parser = self.parser.parse
        self.log = EventLog(store.connection)

    def warm_up(self) -> bool:
        """Load the indexer's symbol table now (seconds on a big tree) rather than on the first
        edit after start. True when it was loaded here."""
        indexer = self.indexer
        if indexer.symbols is not None:
            return False
        if not self.store.has_files():
            return False
        indexer.load_symbols()
        assert indexer.symbols is not None
        indexer.symbols.build_indexes()
        return True

    def expand(self, raw_paths: Iterable[str]) -> list[str]:
        """Turn watched paths into file paths: a directory means every source file under it, now
        on disk or known to the index (a deleted or moved-away directory)."""
        result: set[str] = set()
        for rel in raw_paths:
            if is_source(rel):
                result.add(rel)
                continue
            full = self.root / rel
            # The rule of discovery: a symbolic link is never followed (a linked directory would
            # show the same files twice, or files outside the root).
            if link_on_path(self.root, rel) is None and os.path.isdir(full):
                result.update(f"{rel}/{item.path}" for item in discover(full, ()))
            result.update(self.store.file_paths_under(rel))
        return sorted(result)

    def run(self, paths: list[str] | None) -> PassResult:
        """Index ``paths`` (or the whole tree) and append one event per changed file."""
        return self._run(paths)  # Indexer.index holds the project's index lock

    def _run(self, paths: list[str] | None) -> PassResult:
        report, events = index_with_events(self.indexer, paths=paths, totals=paths is None)
        return PassResult(report, events, paths or [])
