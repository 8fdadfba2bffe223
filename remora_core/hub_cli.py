"""``remora-hub``: the background indexer. ``--once PATH`` indexes and exits."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from remora_core.config import load_config
from remora_core.errors import RemoraError
from remora_core.index.indexer import Indexer
from remora_core.store.store import Store


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="remora-hub", description="Keep a project's Remora index fresh.")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--once", metavar="PATH", help="index PATH once and exit")
    mode.add_argument("--watch", metavar="PATH", help="index PATH, then follow its changes (not built yet)")
    args = parser.parse_args(argv)
    try:
        if args.watch:
            raise RemoraError("'remora-hub --watch' is not built yet; use 'remora-hub --once PATH'")
        root = Path(args.once).resolve()
        config = load_config(root)
        store = Store.open(root)
        try:
            report = Indexer(root, store, config.index).index()
        finally:
            store.close()
        json.dump(report.as_json(), sys.stdout)
        sys.stdout.write("\n")
        return 0
    except RemoraError as error:
        print(f"remora-hub: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
