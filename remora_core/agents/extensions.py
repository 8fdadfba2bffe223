"""User extension models: ``ExtensionNode`` subclasses in ``.remora/models/*.py``.

An extension matches nodes by ``match_type`` ("function", "method", "class", "file" or "*")
and an fnmatch ``match_pattern`` on the node name; among the matches the highest
``priority`` wins (ties: file name, then definition order). It injects ``system_prompt``,
``get_workspaces()`` and extra ``@tool`` methods into the one base prompt. A user file that
fails to import is reported with its file and line and does not stop the others.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from remora_core.agents.tools import BoundTool, collect_tools

if TYPE_CHECKING:
    from remora_core.agents.context import AgentContext

MODELS_DIR = Path(".remora") / "models"
MATCH_TYPES = ("function", "method", "class", "file", "*")


class ExtensionNode:
    """Base class of user extension models. Subclass it in ``.remora/models/<name>.py``."""

    match_type: ClassVar[str] = "*"
    match_pattern: ClassVar[str] = "*"
    priority: ClassVar[int] = 0
    system_prompt: ClassVar[str] = ""

    def __init__(self, context: AgentContext | None = None) -> None:
        self.context = context

    @classmethod
    def matches(cls, node_type: str, name: str) -> bool:
        if cls.match_type not in ("*", node_type):
            return False
        return fnmatch.fnmatchcase(name, cls.match_pattern)

    def get_workspaces(self) -> str:
        """Text for the "Available Data" section of the prompt."""
        return "None"

    def get_tools(self) -> list[BoundTool]:
        return collect_tools(self)


@dataclass(slots=True)
class ExtensionRegistry:
    extensions: list[type[ExtensionNode]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # one line each, naming file and line

    def match(self, node_type: str, name: str) -> type[ExtensionNode] | None:
        for extension in self.extensions:
            if extension.matches(node_type, name):
                return extension
        return None


def _error_line(error: BaseException, path: Path) -> int | None:
    if isinstance(error, SyntaxError) and error.lineno is not None:
        return error.lineno
    line = None
    for frame in traceback.extract_tb(error.__traceback__):
        if Path(frame.filename).resolve() == path.resolve():
            line = frame.lineno
    return line


def _validate(cls: type[ExtensionNode], where: str) -> str | None:
    if cls.match_type not in MATCH_TYPES:
        return f"{where}: {cls.__name__!r} has match_type {cls.match_type!r}; use one of {', '.join(MATCH_TYPES)}"
    if not isinstance(cls.match_pattern, str) or not isinstance(cls.priority, int):
        return f"{where}: {cls.__name__!r} needs a str match_pattern and an int priority"
    try:
        cls().get_tools()
    except Exception as error:  # noqa: BLE001 - any failure in user code is reported, not raised
        return f"{where}: {cls.__name__!r} has an invalid tool: {error}"
    return None


def discover_extensions(root: Path, models_dir: Path = MODELS_DIR) -> ExtensionRegistry:
    """Import every ``*.py`` in ``root/models_dir`` (sorted) and register its ExtensionNode subclasses."""
    registry = ExtensionRegistry()
    directory = root / models_dir
    if not directory.is_dir():
        return registry
    order: list[tuple[int, str, int, type[ExtensionNode]]] = []
    for path in sorted(directory.glob("*.py")):
        if path.name.startswith("_"):
            continue
        where = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
        module_name = f"remora_models_{abs(hash(str(path.resolve())))}_{path.stem}"
        try:
            spec = importlib.util.spec_from_file_location(module_name, path)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load {str(path)!r}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            spec.loader.exec_module(module)
        except Exception as error:  # noqa: BLE001 - a broken user file must not stop the others
            sys.modules.pop(module_name, None)
            line = _error_line(error, path)
            at = f"{where!r} line {line}" if line else repr(where)
            message = error.msg if isinstance(error, SyntaxError) else str(error)
            registry.problems.append(f"{at}: {type(error).__name__}: {message}")
            continue
        for position, value in enumerate(vars(module).values()):
            if (
                isinstance(value, type)
                and issubclass(value, ExtensionNode)
                and value is not ExtensionNode
                and value.__module__ == module_name
            ):
                problem = _validate(value, repr(where))
                if problem:
                    registry.problems.append(problem)
                    continue
                order.append((-value.priority, path.name, position, value))
    order.sort(key=lambda item: item[:3])
    registry.extensions = [item[3] for item in order]
    return registry
