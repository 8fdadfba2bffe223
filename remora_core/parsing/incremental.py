"""Re-parse a file the hub has seen before, reusing what an edit did not touch.

The hub re-indexes one file per save, usually after a small edit. Here the previous
parse of each recently edited file is kept (its bytes, tree and extraction), and a new
version is parsed in three steps:

1. the edit is the bytes between the common prefix and the common suffix of the two
   versions; tree-sitter re-parses incrementally from the old tree, edited to match;
2. each top-level statement of the new tree whose lines lie wholly inside the common
   prefix (or wholly inside the common suffix) and that matches an old statement of the
   same type and span is *reused*: its definitions, imports and calls are copied, shifted
   by the edit's byte and line delta;
3. every other top-level statement is extracted afresh with the query restricted to it.

The result equals ``parse_python(new_data)`` (tests compare the two over random edits of
real files). Whenever that could be in doubt the fresh path runs instead: invalid UTF-8,
a tree with syntax errors before or after the edit, or no previous version. The cache
only saves time: keys are free-form (the hub uses project-relative paths) and a wrong
or stale entry can never change the result, because reuse depends only on the bytes.
"""

from __future__ import annotations

from collections import OrderedDict

from remora_core.parsing.anchors import lone_cr_as_lf
from remora_core.parsing.model import ParsedCall, ParsedDef, ParsedFile, ParsedImport
from remora_core.parsing.python_source import (
    Chunk,
    Extraction,
    Extractor,
    extract,
    parse_python,
    parse_tree,
    query_captures,
    settle,
)

DEFAULT_CAPACITY_BYTES = 1_000_000  # of source: a kept tree and extraction take ~25x that in memory


def common_prefix(a: bytes, b: bytes) -> int:
    """Length of the longest common prefix (binary search on slice equality: C speed)."""
    limit = min(len(a), len(b))
    if a[:limit] == b[:limit]:
        return limit
    low, high = 0, limit  # a[:low] == b[:low]; a[:high] != b[:high]
    while high - low > 32:
        middle = (low + high) // 2
        if a[low:middle] == b[low:middle]:
            low = middle
        else:
            high = middle
    while a[low] == b[low]:
        low += 1
    return low


def common_suffix(a: bytes, b: bytes, limit: int) -> int:
    """Length of the longest common suffix, at most ``limit``."""
    len_a, len_b = len(a), len(b)
    if a[len_a - limit :] == b[len_b - limit :]:
        return limit
    low, high = 0, limit
    while high - low > 32:
        middle = (low + high) // 2
        if a[len_a - middle : len_a - low] == b[len_b - middle : len_b - low]:
            low = middle
        else:
            high = middle
    while a[len_a - low - 1] == b[len_b - low - 1]:
        low += 1
    return low


def _point(data: bytes, offset: int) -> tuple[int, int]:
    """tree-sitter's (row, byte column) of ``offset``."""
    return data.count(b"\n", 0, offset), offset - (data.rfind(b"\n", 0, offset) + 1)


def _chunks(extraction: Extraction) -> list[Chunk]:
    """The top-level statements of ``extraction``'s tree with what each holds."""
    defs = extraction.parsed.defs
    import_bytes = extraction.import_bytes
    call_bytes = extraction.call_bytes
    chunks: list[Chunk] = []
    d = i = c = 0
    for node in extraction.tree.root_node.children:
        start, end = node.start_byte, node.end_byte
        d0, i0, c0 = d, i, c
        while d < len(defs) and defs[d].start_byte < end:
            d += 1
        while i < len(import_bytes) and import_bytes[i] < end:
            i += 1
        while c < len(call_bytes) and call_bytes[c] < end:
            c += 1
        chunks.append(Chunk(start, end, node.type, range(d0, d), range(i0, i), range(c0, c)))
    return chunks


def _shifted_def(old: ParsedDef, index_shift: int, byte_shift: int, line_shift: int) -> ParsedDef:
    return ParsedDef(
        node_type=old.node_type,
        name=old.name,
        qualname=old.qualname,
        parent=old.parent if old.parent < 0 else old.parent + index_shift,
        start_line=old.start_line + line_shift,
        def_line=old.def_line + line_shift,
        header_end_line=old.header_end_line + line_shift,
        end_line=old.end_line + line_shift,
        start_byte=old.start_byte + byte_shift,
        def_byte=old.def_byte + byte_shift,
        end_byte=old.end_byte + byte_shift,
        source_hash=old.source_hash,
        anchor=old.anchor,
        anchor_line=None if old.anchor_line is None else old.anchor_line + line_shift,
        inject_line=None if old.inject_line is None else old.inject_line + line_shift,
        bases=old.bases,
        params=old.params,
    )


def reparse(previous: Extraction, data: bytes) -> Extraction | None:
    """``data`` parsed by reusing ``previous`` (whose tree this edits: do not use it after),
    or None when only a fresh parse is safe. ``data`` must be valid UTF-8."""
    old = previous.data
    if previous.parsed.syntax_error or previous.parsed.problems:
        return None
    chunks = previous.chunks if previous.chunks is not None else _chunks(previous)
    prefix = common_prefix(old, data)
    suffix = common_suffix(old, data, min(len(old), len(data)) - prefix)
    old_end = len(old) - suffix
    new_end = len(data) - suffix
    tree = previous.tree
    tree.edit(
        start_byte=prefix,
        old_end_byte=old_end,
        new_end_byte=new_end,
        start_point=_point(old, prefix),
        old_end_point=_point(old, old_end),
        new_end_point=_point(data, new_end),
    )
    new_tree = parse_tree(data, tree)
    root = new_tree.root_node
    if root.has_error:
        return None
    byte_shift = new_end - old_end
    line_shift = data.count(b"\n", prefix, new_end) - old.count(b"\n", prefix, old_end)
    by_span = {(chunk.start, chunk.end, chunk.kind): number for number, chunk in enumerate(chunks)}
    extractor = Extractor(data, new_tree.root_node)
    copier = _RunCopier(previous, chunks, extractor)
    new_chunks: list[Chunk] = []
    for node in root.children:
        start, end, kind = node.start_byte, node.end_byte, node.type
        line_end = data.find(b"\n", end)
        number: int | None = None
        shift = lines = 0
        if 0 <= line_end < prefix:
            number = by_span.get((start, end, kind))
        elif data.rfind(b"\n", 0, start) >= new_end:
            number = by_span.get((start - byte_shift, end - byte_shift, kind))
            shift, lines = byte_shift, line_shift
        if number is not None:
            new_chunks.append(copier.add(number, start, end, kind, shift, lines))
            continue
        copier.flush()
        counts = (len(extractor.defs), len(extractor.imports), len(extractor.found_calls))
        extractor.add_parts(query_captures(node))
        new_chunks.append(
            Chunk(
                start,
                end,
                kind,
                range(counts[0], len(extractor.defs)),
                range(counts[1], len(extractor.imports)),
                range(counts[2], len(extractor.found_calls)),
            )
        )
    copier.flush()
    parsed = extractor.finish([])
    return Extraction(
        data,
        new_tree,
        parsed,
        extractor.body_starts,
        extractor.import_bytes,
        extractor.call_bytes,
        new_chunks,
    )


class _RunCopier:
    """Copies reused chunks into an extractor's lists, a run of consecutive old chunks with the
    same shift at a time (one slice per list instead of one per chunk)."""

    def __init__(self, previous: Extraction, chunks: list[Chunk], extractor: Extractor) -> None:
        self.previous = previous
        self.old = chunks  # previous's top-level statements
        self.extractor = extractor
        self.first = self.last = -1  # old chunk numbers of the pending run
        self.shift = self.lines = 0
        self.offsets = (0, 0, 0)  # new index minus old index of defs, imports, calls in the run

    def add(self, number: int, start: int, end: int, kind: str, shift: int, lines: int) -> Chunk:
        """Queue old chunk ``number`` (now at ``start``..``end``); returns its new Chunk."""
        if self.first < 0 or number != self.last + 1 or shift != self.shift or lines != self.lines:
            self.flush()
            old = self.old[number]
            extractor = self.extractor
            self.first, self.shift, self.lines = number, shift, lines
            self.offsets = (
                len(extractor.defs) - old.defs.start,
                len(extractor.imports) - old.imports.start,
                len(extractor.found_calls) - old.calls.start,
            )
        self.last = number
        old = self.old[number]
        d, i, c = self.offsets
        return Chunk(
            start,
            end,
            kind,
            range(old.defs.start + d, old.defs.stop + d),
            range(old.imports.start + i, old.imports.stop + i),
            range(old.calls.start + c, old.calls.stop + c),
        )

    def flush(self) -> None:
        if self.first < 0:
            return
        first, last = self.old[self.first], self.old[self.last]
        self.first = self.last = -1
        previous, extractor = self.previous, self.extractor
        old_parsed = previous.parsed
        shift, lines, index_shift = self.shift, self.lines, self.offsets[0]
        defs = slice(first.defs.start, last.defs.stop)
        imports = slice(first.imports.start, last.imports.stop)
        calls = slice(first.calls.start, last.calls.stop)
        if shift == 0 and lines == 0 and index_shift == 0:
            extractor.defs.extend(old_parsed.defs[defs])
            extractor.body_starts.extend(previous.body_starts[defs])
            extractor.imports.extend(old_parsed.imports[imports])
            extractor.import_bytes.extend(previous.import_bytes[imports])
            extractor.found_calls.extend(old_parsed.calls[calls])
            extractor.call_bytes.extend(previous.call_bytes[calls])
            return
        extractor.defs.extend(_shifted_def(item, index_shift, shift, lines) for item in old_parsed.defs[defs])
        extractor.body_starts.extend(position + shift for position in previous.body_starts[defs])
        extractor.imports.extend(
            ParsedImport(ref.module, ref.level, ref.name, ref.alias, ref.line + lines)
            for ref in old_parsed.imports[imports]
        )
        extractor.import_bytes.extend(position + shift for position in previous.import_bytes[imports])
        extractor.found_calls.extend(
            ParsedCall(call.caller + index_shift, call.callee, call.line + lines) for call in old_parsed.calls[calls]
        )
        extractor.call_bytes.extend(position + shift for position in previous.call_bytes[calls])


class IncrementalParser:
    """``parse_python`` with a memory of recently parsed files (least recently used dropped
    first once their sources pass ``capacity_bytes``). Not thread-safe: one per worker."""

    def __init__(self, capacity_bytes: int = DEFAULT_CAPACITY_BYTES) -> None:
        self.capacity_bytes = capacity_bytes
        self._cache: OrderedDict[str, Extraction] = OrderedDict()
        self._bytes = 0
        self.reused = 0  # parses that reused a previous version (for benchmarks and tests)

    def parse(self, key: str, data: bytes) -> ParsedFile:
        previous = self._cache.pop(key, None)
        if previous is not None:
            self._bytes -= len(previous.data)
            if previous.data == data:
                self._remember(key, previous)
                return settle(previous, data)
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return parse_python(data)  # recoded or replaced: offsets differ, not worth caching
        if b"\r" in data and lone_cr_as_lf(data) != data:
            return parse_python(data)  # lone CR line ends: Python's lines are not tree-sitter's
        extraction = reparse(previous, data) if previous is not None else None
        if extraction is None:
            extraction = extract(data, parse_tree(data))
        else:
            self.reused += 1
        self._remember(key, extraction)
        return settle(extraction, data)  # a tree with errors: CPython decides

    def forget(self, key: str) -> None:
        dropped = self._cache.pop(key, None)
        if dropped is not None:
            self._bytes -= len(dropped.data)

    def _remember(self, key: str, extraction: Extraction) -> None:
        if len(extraction.data) > self.capacity_bytes:
            return
        self._cache[key] = extraction
        self._bytes += len(extraction.data)
        while self._bytes > self.capacity_bytes:
            _, dropped = self._cache.popitem(last=False)
            self._bytes -= len(dropped.data)
