"""``remora``: the command-line face. Holds no business logic; every command is a thin call
into the engine facade (``remora_core.engine``). User errors are one line on stderr and a
non-zero exit, never a traceback.

Each command module has ``register(subparsers)``; ``hub`` is the separate ``remora-hub``.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections.abc import Sequence

from remora_core import __version__
from remora_core.cli import agents, impact, index, state
from remora_core.cli.common import EXIT_ERROR
from remora_core.errors import RemoraError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="remora", description="Every Python definition as an agent with a stable ID.")
    parser.add_argument("--version", action="version", version=f"remora {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    index.register(commands)
    agents.register(commands)
    impact.register(commands)
    from remora_core.service.cli import add_parser as add_serve  # the web face: imports stay lazy

    add_serve(commands)
    state.register(commands)
    from remora_core.agents.doctor import add_parser as add_doctor  # stdlib only: imports stay light

    add_doctor(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except RemoraError as error:
        print(f"remora: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except sqlite3.DatabaseError as error:
        print(f"remora: error: the project database is damaged or locked: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("remora: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
