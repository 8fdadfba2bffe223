"""Agent tools: plain Python callables marked with ``@tool``.

The JSON schema of a tool comes from its signature (types, defaults) and its docstring
(the summary, and each parameter's description from the Google-style ``Args:`` section),
through a pydantic model built with ``create_model``. The same schema, in OpenAI "function"
format, is sent to the model and drives the generated tool forms of the sidepanel
(``tool_schemas``). A bad call never raises into the agent loop: invalid JSON, unknown
tools, validation errors and tool failures all come back as the tool's result text.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from remora_core.agents.errors import ToolDefinitionError
from remora_core.errors import RemoraError

TOOL_ATTRIBUTE = "__remora_tool__"
_SECTION_RE = re.compile(r"^(Args|Arguments|Parameters|Returns|Return|Raises|Yields|Examples?|Notes?):\s*$")
_ARG_RE = re.compile(r"^(\*{0,2}\w+)\s*(?:\(([^)]*)\))?\s*:\s*(.*)$")


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """What the model (and the UI) knows about one tool."""

    name: str
    description: str
    parameters: dict[str, Any]  # JSON schema of the arguments object
    model: type[BaseModel]  # validates the arguments
    is_method: bool

    def schema(self, *, short: bool = False) -> dict[str, Any]:
        """The OpenAI "function" tool entry (``short``: first sentences only, for small models)."""
        if not short:
            return {
                "type": "function",
                "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
            }
        parameters = {**self.parameters, "properties": {}}
        for key, prop in self.parameters.get("properties", {}).items():
            parameters["properties"][key] = (
                {**prop, "description": first_sentence(prop["description"])} if prop.get("description") else prop
            )
        return {
            "type": "function",
            "function": {"name": self.name, "description": first_sentence(self.description), "parameters": parameters},
        }


def first_sentence(text: str) -> str:
    """The first sentence (or line) of ``text``, for short tool schemas."""
    line = " ".join(text.strip().split("\n\n", 1)[0].split())
    match = re.match(r"(.+?[.!?])(?=\s+[A-Z]|$)", line)
    return match.group(1) if match else line


@dataclass(frozen=True, slots=True)
class ToolResult:
    text: str
    ok: bool


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """(description, {parameter: description}) of a Google-style docstring."""
    if not doc:
        return "", {}
    lines = inspect.cleandoc(doc).splitlines()
    summary: list[str] = []
    params: dict[str, str] = {}
    section: str | None = None
    current: str | None = None
    for line in lines:
        stripped = line.strip()
        header = _SECTION_RE.match(stripped)
        if header and not line.startswith((" ", "\t")):
            section = header.group(1)
            current = None
            continue
        if section is None:
            summary.append(line)
        elif section in ("Args", "Arguments", "Parameters"):
            indent = len(line) - len(line.lstrip())
            match = _ARG_RE.match(stripped)
            if match and (current is None or indent <= 4):
                current = match.group(1).lstrip("*")
                params[current] = match.group(3).strip()
            elif current and stripped:
                params[current] = f"{params[current]} {stripped}".strip()
    return "\n".join(summary).strip(), params


def _build_spec(func: Callable[..., Any], name: str | None) -> ToolSpec:
    tool_name = name or func.__name__
    signature = inspect.signature(func)
    try:
        hints = get_type_hints(func)
    except Exception as error:  # noqa: BLE001 - any annotation failure is a definition error
        raise ToolDefinitionError(f"tool {tool_name!r}: cannot resolve type hints: {error}") from None
    description, docs = parse_docstring(func.__doc__)
    params = list(signature.parameters.values())
    is_method = bool(params) and params[0].name in ("self", "cls")
    if is_method:
        params = params[1:]
    fields: dict[str, Any] = {}
    for param in params:
        if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            raise ToolDefinitionError(
                f"tool {tool_name!r}: *args/**kwargs parameter {param.name!r} is not supported"
            )
        annotation = hints.get(param.name, Any)
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[param.name] = (annotation, Field(default, description=docs.get(param.name)))
    model_name = "".join(part.capitalize() for part in tool_name.split("_")) + "Args"
    try:
        model = create_model(model_name, __config__=ConfigDict(extra="forbid"), **fields)
        parameters = model.model_json_schema()
    except Exception as error:  # noqa: BLE001 - pydantic raises several types for bad annotations
        raise ToolDefinitionError(f"tool {tool_name!r}: no JSON schema for its signature: {error}") from None
    parameters.pop("title", None)
    for prop in parameters.get("properties", {}).values():
        prop.pop("title", None)
    parameters.setdefault("properties", {})
    return ToolSpec(tool_name, description or tool_name, parameters, model, is_method)


def tool(func: Callable[..., Any] | None = None, *, name: str | None = None) -> Any:
    """Mark a function or method as an agent tool: ``@tool`` or ``@tool(name="x")``."""

    def mark(target: Callable[..., Any]) -> Callable[..., Any]:
        setattr(target, TOOL_ATTRIBUTE, _build_spec(target, name))
        return target

    return mark(func) if func is not None else mark


def tool_spec(func: Callable[..., Any]) -> ToolSpec | None:
    return getattr(func, TOOL_ATTRIBUTE, None)


@dataclass(frozen=True, slots=True)
class BoundTool:
    spec: ToolSpec
    call: Callable[..., Any | Awaitable[Any]]


def collect_tools(obj: object) -> list[BoundTool]:
    """The ``@tool`` methods of ``obj``, bound to it, in definition order (base classes first)."""
    found: dict[str, BoundTool] = {}
    for klass in reversed(type(obj).__mro__):
        for attribute, value in vars(klass).items():
            spec = tool_spec(value)
            if spec is not None:
                found.pop(spec.name, None)
                found[spec.name] = BoundTool(spec, getattr(obj, attribute))
    return list(found.values())


def _bind(item: BoundTool | Callable[..., Any]) -> BoundTool:
    if isinstance(item, BoundTool):
        return item
    spec = tool_spec(item) or _build_spec(item, None)
    return BoundTool(spec, item)


def tool_schemas(tools: Iterable[BoundTool | ToolSpec | Callable[..., Any]]) -> list[dict[str, Any]]:
    """OpenAI "function" schemas of ``tools``: what the model gets and what the UI renders as forms."""
    schemas = []
    for item in tools:
        spec = item if isinstance(item, ToolSpec) else _bind(item).spec
        schemas.append(spec.schema())
    return schemas


def _format_validation(name: str, error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "arguments"
        problems.append(f"{where}: {item['msg']}")
    return f"error: invalid arguments for tool {name!r}: " + "; ".join(problems)


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError):
        return str(value)


def parse_arguments(arguments: str | dict[str, Any] | None) -> dict[str, Any] | str:
    """A tool call's arguments as a dict, read leniently; or why they cannot be read (a phrase).

    Raw control characters inside JSON strings (a model writing real newlines in ``new_source``)
    are accepted, and an object encoded twice (a JSON string holding the object) is decoded once
    more. ``None`` and ``""`` are no arguments.
    """
    if arguments is None:
        return {}
    if isinstance(arguments, dict):
        return arguments
    text = arguments.strip()
    if not text:
        return {}
    try:
        data: Any = json.loads(text, strict=False)
    except json.JSONDecodeError as error:
        return f"are not valid JSON ({error.msg} at position {error.pos})"
    except RecursionError:
        return "are nested too deeply"
    if isinstance(data, str):
        try:
            data = json.loads(data, strict=False)
        except (json.JSONDecodeError, RecursionError):
            return "are a JSON string, not a JSON object"
    if not isinstance(data, dict):
        return f"must be a JSON object, not {type(data).__name__}"
    return data


def _lone_surrogate(value: Any) -> str | None:
    """The first key or string (shortened) holding a lone surrogate, anywhere in ``value``."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value[:40].encode("utf-8", "backslashreplace").decode("utf-8")
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _lone_surrogate(key) or _lone_surrogate(item)
            if found is not None:
                return found
    elif isinstance(value, list):
        for item in value:
            found = _lone_surrogate(item)
            if found is not None:
                return found
    return None


class ToolSet:
    """The tools of one agent turn, by name. The first tool registered under a name wins."""

    def __init__(self, tools: Iterable[BoundTool | Callable[..., Any]] = ()) -> None:
        self._tools: dict[str, BoundTool] = {}
        self.shadowed: list[str] = []  # names dropped because an earlier tool had them
        self.extend(tools)

    def extend(self, tools: Iterable[BoundTool | Callable[..., Any]]) -> None:
        for item in tools:
            bound = _bind(item)
            if bound.spec.name in self._tools:
                self.shadowed.append(bound.spec.name)
                continue
            self._tools[bound.spec.name] = bound

    @property
    def names(self) -> list[str]:
        return list(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def schemas(self, names: Iterable[str] | None = None, *, short: bool = False) -> list[dict[str, Any]]:
        """The schemas of every tool, or of ``names`` only (in this set's order)."""
        wanted = None if names is None else set(names)
        return [
            bound.spec.schema(short=short)
            for name, bound in self._tools.items()
            if wanted is None or name in wanted
        ]

    def validate(self, name: str, arguments: str | dict[str, Any] | None) -> BaseModel | ToolResult:
        """The validated arguments, or the error result the model will see."""
        bound = self._tools.get(name)
        if bound is None:
            known = ", ".join(self._tools) or "none"
            return ToolResult(f"error: unknown tool {name!r}; available tools: {known}", False)
        data = parse_arguments(arguments)
        if isinstance(data, str):
            return ToolResult(f"error: the arguments of tool {name!r} {data}; call it again with a JSON object", False)
        surrogate = _lone_surrogate(data)
        if surrogate is not None:
            return ToolResult(
                f"error: the arguments of tool {name!r} hold an invalid character (a lone UTF-16 surrogate "
                f"in {surrogate!r}); call it again with valid text",
                False,
            )
        try:
            return bound.spec.model.model_validate(data)
        except ValidationError as error:
            return ToolResult(_format_validation(name, error), False)

    async def call(self, name: str, arguments: str | dict[str, Any] | None) -> ToolResult:
        """Run one tool call. Only cancellation propagates; every failure becomes the result text."""
        checked = self.validate(name, arguments)
        if isinstance(checked, ToolResult):
            return checked
        bound = self._tools[name]
        kwargs = {key: getattr(checked, key) for key in type(checked).model_fields}
        try:
            value = bound.call(**kwargs)
            if inspect.isawaitable(value):
                value = await value
        except asyncio.CancelledError:
            raise
        except RemoraError as error:
            return ToolResult(f"error: {error}", False)
        except Exception as error:  # noqa: BLE001 - a tool bug must not kill the turn
            return ToolResult(f"error: tool {name!r} failed: {type(error).__name__}: {error}", False)
        return ToolResult(_as_text(value), True)
