"""What every ``remora`` command shares: JSON output, the ``--root`` option, opening the project."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from remora_core.project import find_root
from remora_core.store.store import Store

if TYPE_CHECKING:  # the agent runtime (and openai) is imported only by the commands that run
    from remora_core.engine.facade import Engine

EXIT_ERROR = 1


def print_json(value: object) -> None:
    json.dump(value, sys.stdout, indent=2)
    sys.stdout.write("\n")


def root_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", help="project root (default: found from the current directory upward)")


def project_root(args: argparse.Namespace, start: Path | None = None) -> Path:
    """The project of ``--root``, else the nearest indexed directory at or above ``start`` (cwd)."""
    return find_root(Path(args.root) if getattr(args, "root", None) else (start or Path.cwd()))


def open_store(args: argparse.Namespace, start: Path | None = None) -> tuple[Path, Store]:
    root = project_root(args, start)
    return root, Store.open(root, create=False)


def open_engine(args: argparse.Namespace, start: Path | None = None) -> Engine:
    from remora_core.engine.facade import Engine

    return Engine(project_root(args, start))
