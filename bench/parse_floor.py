"""The tree-sitter parse floor: read and parse every ``*.py`` under a tree in ``Pool(2)``, nothing else.

    python bench/parse_floor.py TREE

A whole process (interpreter start included), so it compares with a whole ``remora index``.
"""

from __future__ import annotations

import os
import sys
from multiprocessing import Pool

import tree_sitter_python
from tree_sitter import Language, Parser

_parser: Parser | None = None


def _parse(path: str) -> int:
    global _parser
    if _parser is None:
        _parser = Parser(Language(tree_sitter_python.language()))
    with open(path, "rb") as handle:
        data = handle.read()
    _parser.parse(data)
    return len(data)


def main() -> int:
    root = sys.argv[1]
    paths = [os.path.join(d, n) for d, _, names in os.walk(root) for n in names if n.endswith(".py")]
    with Pool(2) as pool:
        total = sum(pool.imap_unordered(_parse, paths, chunksize=16))
    print(f"{len(paths)} files, {total} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
