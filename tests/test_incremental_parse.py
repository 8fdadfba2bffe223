"""Incremental re-parsing (the hub's hot path): its result must equal a fresh ``parse_python``."""

from __future__ import annotations

import ast
import random
import sysconfig
import warnings
from pathlib import Path

import pytest

from remora_core.config import IndexConfig
from remora_core.hub.indexing import HubIndexer
from remora_core.index.indexer import Indexer
from remora_core.parsing.incremental import IncrementalParser, common_prefix, common_suffix
from remora_core.parsing.python_source import parse_python
from remora_core.store.store import Store

SOURCE = b'''import os
from . import sibling as sib


@decorator(1)
class Loader(Base):  # rm_aaaaaaaa
    """Loads."""

    def load(self, path):  # rm_bbbbbbbb
        data = os.path.join(path, "x")
        return self.parse(super().load(data))

    def parse(self, data):
        return sib.decode(data)


def helper(value):
    return Loader().load(value)


if True:
    def guarded():
        return helper(1)
'''


def parsed_both(parser: IncrementalParser, data: bytes) -> None:
    assert parser.parse("f.py", data) == parse_python(data)


@pytest.mark.parametrize(
    "edit",
    [
        lambda s: s.replace(b'"x"', b'"y"'),  # inside a body, same length
        lambda s: s.replace(b'"x"', b'"a longer string"'),  # inside a body, bytes shift
        lambda s: s.replace(b"        data = os", b"        first = 1\n        data = os"),  # lines shift
        lambda s: b"import sys\n" + s,  # everything after the edit moves
        lambda s: s + b"\ndef tail():\n    return guarded()\n",  # a new definition at the end
        lambda s: s.replace(b"def helper(value):\n    return Loader().load(value)\n", b""),  # one removed
        lambda s: s.replace(b"    def parse(self, data):", b"    def parse(self, data, extra):"),  # header
        lambda s: s.replace(b"  # rm_bbbbbbbb", b""),  # an anchor removed
        lambda s: s.replace(b"return helper(1)", b"return helper(1)\n    x = 2"),  # joins a block
        lambda s: s.replace(b'"""Loads."""', b'"""Lo\nds."""'),  # same length, one more line
        lambda s: s.replace(b"@decorator(1)\n", b""),  # a decorator removed
    ],
)
def test_one_edit_gives_the_fresh_parse(edit) -> None:  # type: ignore[no-untyped-def]
    parser = IncrementalParser()
    parser.parse("f.py", SOURCE)
    edited = edit(SOURCE)
    assert edited != SOURCE
    parsed_both(parser, edited)
    assert parser.reused == 1
    parsed_both(parser, SOURCE)  # and back
    assert parser.reused == 2


def test_syntax_errors_and_bad_utf8_fall_back_to_a_fresh_parse() -> None:
    parser = IncrementalParser()
    parser.parse("f.py", SOURCE)
    broken = SOURCE.replace(b"def parse(self, data):", b"def parse(self, data")
    parsed_both(parser, broken)
    assert parse_python(broken).syntax_error
    parsed_both(parser, SOURCE)  # from a tree with errors: fresh again
    assert parser.reused == 0
    latin = SOURCE.replace(b'"x"', b'"\xe9"')
    parsed_both(parser, latin)
    assert parse_python(latin).problems
    parsed_both(parser, SOURCE)
    parsed_both(parser, SOURCE.replace(b'"x"', b'"z"'))
    assert parser.reused == 1


def test_capacity_drops_the_least_recently_used_files() -> None:
    parser = IncrementalParser(capacity_bytes=len(SOURCE) * 2 + 10)
    for key in ("a.py", "b.py", "c.py"):
        parser.parse(key, SOURCE)
    parser.parse("a.py", SOURCE + b"\n")  # "a.py" was dropped for "c.py": fresh
    assert parser.reused == 0
    parser.parse("c.py", SOURCE + b"\n")
    assert parser.reused == 1
    parser.forget("c.py")
    parser.parse("c.py", SOURCE)
    assert parser.reused == 1


@pytest.mark.parametrize("a,b", [(b"", b"x"), (b"abc", b"abc"), (b"abcdef" * 50, b"abcdXf" * 50), (b"x" * 100, b"x" * 99)])
def test_common_prefix_and_suffix(a: bytes, b: bytes) -> None:
    prefix = common_prefix(a, b)
    assert a[:prefix] == b[:prefix] and (prefix == min(len(a), len(b)) or a[prefix] != b[prefix])
    limit = min(len(a), len(b)) - prefix
    suffix = common_suffix(a, b, limit)
    assert suffix <= limit and a[len(a) - suffix :] == b[len(b) - suffix :]
    assert suffix == limit or a[len(a) - suffix - 1] != b[len(b) - suffix - 1]


SNIPPETS = [
    b"",
    b"    ",
    b"def new_fn(a, b):\n    return a(b)",
    b"class K(Base):\n    def m(self):\n        self.x()",
    b"  # rm_abcdefgh",
    b"# a comment",
    b"import os",
    b"from . import z as y",
    b"@decorator",
    b"        y = call(1)",
    b"    return other.thing()",
    b'"""',
    b"(",
]


def random_edits(data: bytes, rng: random.Random, count: int) -> list[bytes]:
    """``count`` successive versions; mostly valid Python, sometimes broken, sometimes several
    edits between two parses."""
    versions: list[bytes] = []
    last_valid = data
    while len(versions) < count:
        if data is not last_valid and rng.random() < 0.5:
            data = last_valid  # the user fixes what they broke
        lines = data.split(b"\n")
        at = rng.randrange(len(lines) + 1)
        roll = rng.random()
        if roll < 0.35:
            lines.insert(at, rng.choice(SNIPPETS))
        elif roll < 0.55 and len(lines) > 1:
            del lines[min(at, len(lines) - 1)]
        elif roll < 0.85:
            row = min(at, len(lines) - 1)
            column = rng.randrange(len(lines[row]) + 1)
            lines[row] = lines[row][:column] + rng.choice(SNIPPETS) + lines[row][column + rng.randrange(3) :]
        else:
            start = rng.randrange(len(lines))
            block = lines[start : start + rng.randrange(1, 12)]
            del lines[start : start + len(block)]
            target = rng.randrange(len(lines) + 1)
            lines[target:target] = block
        candidate = b"\n".join(lines)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ast.parse(candidate)
            last_valid = candidate
        except (SyntaxError, ValueError):
            if rng.random() < 0.85:
                continue
        data = candidate
        if rng.random() < 0.75:  # else: another edit before the next parse
            versions.append(data)
    return versions


def stdlib_samples(count: int) -> list[Path]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    names = ["textwrap.py", "shlex.py", "json/decoder.py", "fnmatch.py", "colorsys.py", "dataclasses.py"]
    found = [stdlib / name for name in names if (stdlib / name).is_file()]
    return found[:count]


@pytest.mark.parametrize("seed", range(3))
def test_random_edits_of_real_files_give_the_fresh_parse(seed: int) -> None:
    rng = random.Random(seed)
    reused = total = 0
    for path in stdlib_samples(6):
        data = path.read_bytes()
        parser = IncrementalParser()
        parser.parse(str(path), data)
        for number, version in enumerate(random_edits(data, rng, 12)):
            got = parser.parse(str(path), version)
            assert got == parse_python(version), f"{path.name}, version {number} (seed {seed})"
        reused += parser.reused
        total += 12
    assert reused > total // 3  # most edits keep the file valid: the fast path really ran


def test_the_hub_indexer_ends_where_a_fresh_index_does(tmp_path: Path) -> None:
    """Edits through the hub's incremental path leave the same nodes and edges as indexing
    the final files from scratch."""
    rng = random.Random(3)
    files = {
        "pkg/__init__.py": b"from .loader import Loader\n",
        "pkg/loader.py": SOURCE.replace(b"from . import sibling as sib", b"from . import util as sib"),
        "pkg/util.py": b"def decode(data):\n    return data\n\n\ndef unused():\n    return decode(1)\n",
    }
    live = tmp_path / "live"
    for name, data in files.items():
        (live / name).parent.mkdir(parents=True, exist_ok=True)
        (live / name).write_bytes(data)
    store = Store.open(live)
    hub = HubIndexer(live, store, IndexConfig(inject=False))
    hub.run(None)
    for version in random_edits(files["pkg/loader.py"], rng, 25):
        (live / "pkg/loader.py").write_bytes(version)
        hub.run(["pkg/loader.py"])
    assert hub.parser.reused > 5

    fresh = tmp_path / "fresh"
    for name in files:
        (fresh / name).parent.mkdir(parents=True, exist_ok=True)
        (fresh / name).write_bytes((live / name).read_bytes())
    fresh_store = Store.open(fresh)
    Indexer(fresh, fresh_store, IndexConfig(inject=False)).index()

    def state(of: Store) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
        nodes = of.connection.execute(
            "SELECT qualname, node_type, file_path, start_line, def_line, end_line, source_hash "
            "FROM nodes WHERE status = 'active' ORDER BY file_path, qualname, start_line"
        ).fetchall()
        edges = of.connection.execute(
            "SELECT a.qualname, b.qualname, e.edge_type, e.file_path FROM edges e "
            "JOIN nodes a ON a.id = e.from_id JOIN nodes b ON b.id = e.to_id ORDER BY 1, 2, 3, 4"
        ).fetchall()
        return nodes, edges

    assert state(store) == state(fresh_store)
    store.close()
    fresh_store.close()
