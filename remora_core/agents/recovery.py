"""Tool calls written as text, and the code-block fallback, for models whose server did not parse
their calls (small local models behind llama-cpp-python, a vLLM without a tool-call parser).

``find_text_calls`` reads the forms seen in practice, in this order of trust:

- ``<tool_call>{"name": ..., "arguments": ...}</tool_call>`` (Qwen's documented format; an
  unclosed last tag too);
- ``functions.NAME:`` followed by a JSON object of arguments (llama-cpp-python's
  ``chatml-function-calling`` grammar);
- a JSON object ``{"name": ..., "arguments": ...}`` in a fenced block or bare in the text
  (``arguments`` an object, or the object encoded once more as a JSON string; ``parameters``
  is accepted for ``arguments``).

``code_block_rewrite`` is the last resort for an edit request: a reply holding exactly one
fenced Python block that defines the node's own name becomes its ``new_source``; the imports
the block adds above the definition are returned separately (they cannot go into a node's
rewrite). Pure functions: no I/O.
"""

from __future__ import annotations

import ast
import json
import re
import textwrap
from dataclasses import dataclass, field
from typing import Any, Literal

CallForm = Literal["tool_call_tag", "functions_prefix", "json"]

_TAG_RE = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)
_FUNCTIONS_RE = re.compile(r"functions\.([A-Za-z_][\w.-]*)\s*:\s*")
_FENCE_RE = re.compile(r"```[ \t]*([\w+-]*)[ \t]*\n(.*?)(?:\n[ \t]*```|\Z)", re.DOTALL)
_ANCHOR_RE = re.compile(r"[ \t]*(?:#|//)\s*(?:remora-file:\s*)?rm_[a-z0-9]{8}[ \t]*$", re.MULTILINE)  # any registry language
_DECODER = json.JSONDecoder(strict=False)
MAX_SCAN = 200_000  # characters of a reply scanned for bare JSON objects


@dataclass(frozen=True, slots=True)
class TextCall:
    """One call read from a reply's text. ``arguments`` is JSON text of an object when it could be
    read as one, else the raw text (the tool's validation then reports it to the model)."""

    name: str
    arguments: str
    form: CallForm
    span: tuple[int, int] = field(compare=False)


def _arguments_text(value: Any) -> str:
    if value is None:
        return "{}"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, str):
        try:
            decoded = json.loads(value, strict=False)
        except json.JSONDecodeError:
            return value
        return json.dumps(decoded, ensure_ascii=False) if isinstance(decoded, dict) else value
    return json.dumps(value, ensure_ascii=False)


def _call_of(value: Any, form: CallForm, span: tuple[int, int]) -> TextCall | None:
    if not isinstance(value, dict):
        return None
    name = value.get("name")
    if not isinstance(name, str) or not name.strip():
        function = value.get("function")  # {"function": {"name", "arguments"}} as in the API
        if isinstance(function, dict):
            return _call_of(function, form, span)
        return None
    if form == "json" and "arguments" not in value and "parameters" not in value:
        return None  # a bare object with a "name" is data, not a call, unless it has arguments
    arguments = value.get("arguments", value.get("parameters"))
    return TextCall(name.strip(), _arguments_text(arguments), form, span)


def _objects(text: str, start: int = 0, end: int | None = None) -> list[tuple[Any, tuple[int, int]]]:
    """Every top-level JSON value starting with ``{`` or ``[`` in ``text[start:end]``, with its span."""
    stop = min(len(text) if end is None else end, start + MAX_SCAN)
    found: list[tuple[Any, tuple[int, int]]] = []
    index = start
    while index < stop:
        brace = min((i for i in (text.find("{", index, stop), text.find("[", index, stop)) if i >= 0), default=-1)
        if brace < 0:
            break
        try:
            value, after = _DECODER.raw_decode(text, brace)
        except (json.JSONDecodeError, RecursionError):
            index = brace + 1
            continue
        found.append((value, (brace, after)))
        index = after
    return found


def _calls_in(value: Any, form: CallForm, span: tuple[int, int]) -> list[TextCall]:
    items = value if isinstance(value, list) else [value]
    calls = [_call_of(item, form, span) for item in items]
    return [call for call in calls if call is not None]


def find_text_calls(text: str | None) -> list[TextCall]:
    """The tool calls written in ``text`` (possibly none), in the order they appear."""
    if not text or ("{" not in text and "functions." not in text):
        return []
    calls: list[TextCall] = []
    taken: list[tuple[int, int]] = []
    for match in _TAG_RE.finditer(text):
        for value, _ in _objects(text, match.start(1), match.end(1))[:1]:
            calls.extend(_calls_in(value, "tool_call_tag", match.span()))
        taken.append(match.span())
    for match in _FUNCTIONS_RE.finditer(text):
        if any(a <= match.start() < b for a, b in taken):
            continue
        rest = text[match.end() :].lstrip()
        arguments = "{}"
        end = match.end()
        if rest.startswith("{"):
            offset = len(text) - len(rest)
            try:
                value, end = _DECODER.raw_decode(text, offset)
                arguments = _arguments_text(value)
            except (json.JSONDecodeError, RecursionError):
                arguments = rest
                end = len(text)
        calls.append(TextCall(match.group(1), arguments, "functions_prefix", (match.start(), end)))
        taken.append((match.start(), end))
    if not calls:
        for value, span in _objects(text):
            calls.extend(_calls_in(value, "json", span))
    return sorted(calls, key=lambda call: call.span[0])


def strip_calls(text: str, calls: list[TextCall]) -> str:
    """``text`` without the spans of ``calls`` (and the fences left around them)."""
    pieces: list[str] = []
    position = 0
    for call in sorted(calls, key=lambda c: c.span[0]):
        start, end = call.span
        if start < position:
            continue
        pieces.append(text[position:start])
        position = end
    pieces.append(text[position:])
    rest = "".join(pieces)
    rest = re.sub(r"```[\w+-]*\s*```", "", rest)
    return rest.strip()


# -- code-block fallback -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CodeRewrite:
    new_source: str  # the definition (decorators included), without the imports above it
    imports: list[str]  # import statements the block adds above the definition
    unchanged: bool = False  # the block is the current source again: nothing to propose


def strip_anchors(source: str) -> str:
    """``source`` without ``# rm_xxxxxxxx`` anchors (and their padding)."""
    return _ANCHOR_RE.sub("", source)


def _normalised(source: str) -> str:
    text = textwrap.dedent(strip_anchors(source).strip("\n"))
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def python_blocks(text: str | None) -> list[str]:
    """The fenced code blocks of ``text`` tagged python/py (or untagged)."""
    if not text:
        return []
    return [
        body
        for lang, body in _FENCE_RE.findall(text)
        if lang.lower() in ("python", "py", "python3", "")
    ]


def code_block_rewrite(text: str | None, name: str, current_source: str) -> CodeRewrite | None:
    """The rewrite a reply's only Python block proposes for the definition ``name``; None when
    there is not exactly one such block, it does not parse, or it does not define ``name`` at its
    top level. ``unchanged`` when it equals ``current_source`` (anchors and trailing spaces aside)."""
    blocks = python_blocks(text)
    if len(blocks) != 1:
        return None
    block = textwrap.dedent(blocks[0].strip("\n"))
    try:
        tree = ast.parse(block)
    except SyntaxError:
        return None
    lines = block.splitlines()
    definition: ast.stmt | None = None
    imports: list[str] = []
    for statement in tree.body:
        if (
            isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and statement.name == name
        ):
            if definition is not None:
                return None
            definition = statement
        elif isinstance(statement, (ast.Import, ast.ImportFrom)) and definition is None:
            end = statement.end_lineno or statement.lineno
            imports.append("\n".join(lines[statement.lineno - 1 : end]))
    if definition is None:
        return None
    decorators = getattr(definition, "decorator_list", [])
    first = min([definition.lineno, *(d.lineno for d in decorators)])
    last = definition.end_lineno or definition.lineno
    new_source = "\n".join(lines[first - 1 : last]) + "\n"
    return CodeRewrite(new_source, imports, is_unchanged(new_source, current_source))


def is_unchanged(new_source: str, current_source: str) -> bool:
    """Whether ``new_source`` is ``current_source`` again (anchors and trailing spaces aside)."""
    return _normalised(new_source) == _normalised(current_source)


_KEY_RE = r'"{key}"\s*:\s*"'


def _cut_string_value(arguments: str, key: str) -> str | None:
    """The value of ``key`` in JSON cut off inside that string (``max_tokens`` reached while a
    grammar-forced call was writing it), its escapes decoded; None when there is no such key."""
    match = re.search(_KEY_RE.format(key=re.escape(key)), arguments)
    if match is None:
        return None
    rest = arguments[match.end() :]
    for trim in range(6):  # a cut may leave half an escape (``\``, ``\u12``) at the end
        body = rest[: len(rest) - trim] if trim else rest
        try:
            value, _ = _DECODER.raw_decode(f'"{body}"')
        except json.JSONDecodeError:
            continue
        if isinstance(value, str):
            return value
    return None


def salvage_new_source(arguments: str, name: str, current_source: str) -> str | None:
    """A forced ``rewrite_self`` whose ``new_source`` is markdown (prose and fenced blocks, often cut
    off at ``max_tokens``): the last fenced block that defines ``name`` and differs from the
    current source, as clean arguments JSON; None when there is none."""
    if "```" not in arguments:
        return None
    text = arguments
    parsed: Any = None
    try:
        parsed = json.loads(arguments, strict=False)
    except json.JSONDecodeError:
        pass
    if isinstance(parsed, dict) and isinstance(parsed.get("new_source"), str):
        text = parsed["new_source"]
    elif parsed is None:
        text = _cut_string_value(arguments, "new_source") or arguments
    blocks = [block for block in python_blocks(text + "\n```") if block.strip()]
    for block in reversed(blocks):
        rewrite = code_block_rewrite(f"```python\n{block}\n```", name, current_source)
        if rewrite is not None and not rewrite.unchanged:
            return json.dumps({"new_source": rewrite.new_source}, ensure_ascii=False)
    return None
