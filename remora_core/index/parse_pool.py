"""Parse many files, in worker processes when it pays (tree-sitter parsing holds the GIL)."""

from __future__ import annotations

import ctypes
import gc
import json
import marshal
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from functools import partial
from operator import attrgetter
from typing import Any

from remora_core.fileio import bytes_hash
from remora_core.hub.parent import die_with_parent
from remora_core.index.lock import close_inherited_locks
from remora_core.languages import language_of, parse_source
from remora_core.parsing.model import ParsedCall, ParsedDef, ParsedFile, ParsedImport

# Below this much source, worker start-up costs more than it saves.
PARALLEL_MIN_BYTES = 1_500_000
BATCHES_PER_WORKER = 6
# ... and at least one batch per this much source: the parent holds one batch's results at a time.
BATCH_BYTES = 500_000
AHEAD = 2


@dataclass(slots=True)
class ParseResult:
    path: str
    content_hash: str
    mtime_ns: int
    size: int
    parsed: ParsedFile | None
    error: str | None = None
    refs_body: str = ""  # references_json(parsed), built in the worker (it is big on big files)


_REFS_ENCODER = json.JSONEncoder(separators=(",", ":"))


def references_json(parsed: ParsedFile) -> str:
    """The file's raw references (imports, call sites, class bases, parameters) as the body of a
    JSON object; call sites name their caller by definition index, so no ids are needed yet."""
    # Named tuples and tuples encode as JSON arrays: no copies into lists.
    return _REFS_ENCODER.encode(
        {
            "imports": parsed.imports,
            "calls": parsed.calls,
            "bases": {str(index): d.bases for index, d in enumerate(parsed.defs) if d.bases},
            "params": {str(index): d.params for index, d in enumerate(parsed.defs) if d.params},
        }
    )[1:-1]



# (path, bytes) -> ParsedFile: the hub passes an IncrementalParser's ``parse`` here.
SourceParser = Callable[[str, bytes], ParsedFile]


def needs_anchors(parsed: ParsedFile) -> bool:
    """Whether the file lacks its file anchor or the anchor of some definition."""
    return parsed.file_anchor is None or any(parsed_def.anchor is None for parsed_def in parsed.defs)


def parse_one(root: str, path: str, parse: SourceParser | None = None, check: bool = False) -> ParseResult:
    """Read and parse one file; an unreadable file becomes a result with ``error``. With
    ``check``, a file that needs anchors is compiled by CPython too (anchors are only written
    into files it compiles): here, so that it runs in the worker processes."""
    try:
        with open(os.path.join(root, path), "rb") as handle:
            stat = os.fstat(handle.fileno())
            data = handle.read()
    except OSError as error:
        return ParseResult(path, "", 0, 0, None, f"cannot read: {error.strerror}")
    parsed = parse_source(path, data, parse)  # the file's language (``parse``: Python's, the hub's)
    if check and not parsed.syntax_error and needs_anchors(parsed):
        language_of(path).compiles(parsed, data)
    return ParseResult(path, bytes_hash(data), stat.st_mtime_ns, stat.st_size, parsed, None, references_json(parsed))


# The worker -> parent hop. A ParseResult crosses as one ``marshal`` record of plain values:
# definitions as tuples (pickling slotted dataclasses costs 4x more), imports and calls only
# once, inside ``refs_body`` (they were pickled as named tuples *and* sent again as that JSON).
# One bytes object per file, made as soon as the file is parsed: a batch's results held by the
# worker are a few large blocks, not thousands of small objects scattered among the freed pages
# of the next file's tree (which then stay mapped: see ``_release_memory``).
_DEF_FIELDS = attrgetter(*ParsedDef.__slots__)
PackedResult = bytes  # see pack_result


def pack_result(result: ParseResult) -> PackedResult:
    """``result`` as one ``marshal`` record; ``unpack_result`` gives an equal ParseResult."""
    return marshal.dumps(_plain_result(result))


def _plain_result(result: ParseResult) -> tuple[Any, ...]:
    parsed = result.parsed
    if parsed is None:
        return (result.path, result.content_hash, result.mtime_ns, result.size, None, result.error, "")
    return (
        result.path,
        result.content_hash,
        result.mtime_ns,
        result.size,
        (
            parsed.source_hash,
            parsed.line_count,
            [_DEF_FIELDS(d) for d in parsed.defs],
            parsed.file_anchor,
            parsed.file_anchor_line,
            parsed.file_anchor_insert_line,
            parsed.problems,
            parsed.syntax_error,
            parsed.compiles,
        ),
        result.error,
        result.refs_body or references_json(parsed),
    )


# ParsedImport(*item) / ParsedCall(*item) without the named tuples' Python-level __new__.
_new_import = partial(tuple.__new__, ParsedImport)
_new_call = partial(tuple.__new__, ParsedCall)


def unpack_result(packed: PackedResult) -> ParseResult:
    path, content_hash, mtime_ns, size, compact, error, refs_body = marshal.loads(packed)
    if compact is None:
        return ParseResult(path, content_hash, mtime_ns, size, None, error)
    source_hash, line_count, defs, anchor, anchor_line, insert_line, problems, syntax_error, compiled = compact
    refs = json.loads("{" + refs_body + "}")
    parsed = ParsedFile(
        source_hash,
        line_count,
        [ParsedDef(*fields) for fields in defs],
        list(map(_new_import, refs["imports"])),
        list(map(_new_call, refs["calls"])),
        anchor,
        anchor_line,
        insert_line,
        problems,
        syntax_error,
        compiled,
    )
    return ParseResult(path, content_hash, mtime_ns, size, parsed, error, refs_body)


def _worker_start(parent_pid: int) -> None:
    """A parser process dies with the process that started it (a ``kill -9`` of ``remora
    index`` leaves no orphans) and never holds that process's index lock. Its objects form
    no reference cycles worth collecting: the cyclic GC is off (a tenth of the parse time),
    and what it inherited is frozen, so that ``_release_memory``'s collection skips it."""
    die_with_parent(parent_pid)
    close_inherited_locks()
    gc.disable()
    gc.freeze()


# After parsing this much source (bytes) the worker gives back what the trees took.
RELEASE_AFTER_BYTES = 64_000
_malloc_trim: Callable[[int], int] | None = None


def _release_memory() -> None:
    """Give freed memory back to the system. tree-sitter allocates its trees through Python's
    allocator, so a big file's tree fills pymalloc arenas and glibc's heap; once freed, an
    arena is unmapped only when nothing in it is alive, and glibc keeps freed heap pages.
    A full collection empties the free lists (tuples, lists, dicts: thousands of blocks kept
    in those arenas), then ``malloc_trim`` returns glibc's free pages."""
    global _malloc_trim
    gc.collect()
    if _malloc_trim is None:
        try:
            _malloc_trim = ctypes.CDLL(None).malloc_trim
        except (OSError, AttributeError):  # not glibc
            _malloc_trim = int
    _malloc_trim(0)


def _parse_batch(root: str, paths: Sequence[str], check: bool) -> list[PackedResult]:
    """What a worker runs: the packed results of ``paths``, memory given back every
    ``RELEASE_AFTER_BYTES`` of source (``_release_memory``) and after the batch before this
    one (its results were sent)."""
    _release_memory()
    packed: list[PackedResult] = []
    parsed_bytes = 0  # since memory was last given back
    for path in paths:
        result = parse_one(root, path, None, check)
        packed.append(pack_result(result))
        parsed_bytes += result.size
        if parsed_bytes >= RELEASE_AFTER_BYTES:
            del result
            _release_memory()
            parsed_bytes = 0
    return packed


def _batches(paths: Sequence[str], sizes: Sequence[int], count: int) -> list[list[str]]:
    """``count`` batches of roughly equal bytes, biggest files first (better tail balance)."""
    order = sorted(range(len(paths)), key=lambda index: -sizes[index])
    batches: list[list[str]] = [[] for _ in range(count)]
    totals = [0] * count
    for index in order:
        target = totals.index(min(totals))
        batches[target].append(paths[index])
        totals[target] += sizes[index]
    return [batch for batch in batches if batch]


def worker_count(configured: int) -> int:
    """``configured`` workers, or one per usable core when it is 0."""
    if configured:
        return configured
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


# A pool forked early by ``prestart_workers`` (``remora index``, before it imports the config
# models and the rest): a forked worker carries a copy of its parent's heap, so forking from a
# lean process saves that much RSS in every worker. (pool, its worker count) until taken.
_prestarted: tuple[ProcessPoolExecutor, int] | None = None


def _fork_context() -> multiprocessing.context.BaseContext | None:
    return multiprocessing.get_context("fork") if "fork" in multiprocessing.get_all_start_methods() else None


def _new_pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=_fork_context(), initializer=_worker_start, initargs=(os.getpid(),)
    )


def prestart_workers(workers: int) -> None:
    """Fork ``workers`` parse workers now, for the next ``parse_files`` of this process that asks
    for as many (any other count starts its own pool). Call it while the process is lean, before
    any thread is started; ``release_workers`` stops them if no ``parse_files`` took them."""
    global _prestarted
    release_workers()
    if workers <= 1:
        return
    pool = _new_pool(workers)
    pool.submit(int)  # with fork, the first submit forks every worker (and nothing waits for it)
    _prestarted = (pool, workers)


def release_workers() -> None:
    """Stop the prestarted workers, if ``parse_files`` did not take them."""
    global _prestarted
    if _prestarted is not None:
        _prestarted[0].shutdown(wait=True, cancel_futures=True)
        _prestarted = None


def _take_pool(workers: int) -> ProcessPoolExecutor:
    global _prestarted
    if _prestarted is not None and _prestarted[1] == workers:
        pool = _prestarted[0]
        _prestarted = None
        return pool
    return _new_pool(workers)


def parse_files(
    root: str,
    paths: Sequence[str],
    sizes: Sequence[int],
    workers: int,
    parse: SourceParser | None = None,
    check: bool = False,
) -> Iterator[ParseResult]:
    """Parse ``paths`` (relative to ``root``); results come in completion order. ``parse``
    replaces Python's parser when the files are parsed in this process (a small batch);
    ``check``: see ``parse_one``. The worker processes are the prestarted ones when there are
    as many (``prestart_workers``)."""
    if workers <= 1 or sum(sizes) < PARALLEL_MIN_BYTES or len(paths) < 2 * workers:
        for path in paths:
            yield parse_one(root, path, parse, check)
        return
    batches = _batches(paths, sizes, max(workers * BATCHES_PER_WORKER, sum(sizes) // BATCH_BYTES))
    with _take_pool(workers) as pool:
        # At most AHEAD batches per worker are queued or done but not yet taken by the caller:
        # a caller slower than the workers holds a few batches' results, never the whole tree's.
        queue = batches[::-1]
        pending: set[Future[list[PackedResult]]] = set()
        while queue or pending:
            while queue and len(pending) < workers * AHEAD:
                pending.add(pool.submit(_parse_batch, root, queue.pop(), check))
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                packed_results = future.result()
                while packed_results:
                    yield unpack_result(packed_results.pop())
