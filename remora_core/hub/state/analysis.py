"""Pure facts about one node's source text (no database): signature, decorators, docstring,
cyclomatic complexity, control-flow counts, exports, identifiers. Works on the node's own text
(decorators included), indented or not; a fragment that does not parse gives ``None``."""

from __future__ import annotations

import ast
import re
from collections import Counter
from dataclasses import dataclass, field

_WRAP = "class _RemoraFragment_:\n"
_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KEYWORDS = frozenset(
    ["def", "class", "return", "if", "elif", "else", "for", "while", "in", "not", "and", "or", "is", "None", "True", "False", "import", "from", "as", "with", "try", "except", "finally", "raise", "pass", "break", "continue", "lambda", "yield", "await", "async", "self", "cls", "global", "nonlocal", "del", "assert"]
)

Definition = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


@dataclass(slots=True)
class NodeFacts:
    signature: str | None = None
    decorators: list[str] = field(default_factory=list)
    parameters: dict[str, str] = field(default_factory=dict)  # name -> annotation ('' when none)
    returns: str | None = None
    bases: list[str] = field(default_factory=list)
    docstring: str | None = None
    complexity: int = 1
    control_flow: dict[str, int] = field(default_factory=dict)
    exports: list[str] = field(default_factory=list)
    parsed: bool = True


def parse_fragment(source: str) -> ast.Module | None:
    """The module of ``source``; an indented fragment (a method) is parsed inside a dummy class."""
    first = next((line for line in source.splitlines() if line.strip()), "")
    text = _WRAP + source if first[:1] in (" ", "\t") else source
    try:
        module = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    if text is not source:
        wrapper = module.body[0]
        assert isinstance(wrapper, ast.ClassDef)
        module = ast.Module(body=wrapper.body, type_ignores=[])
    return module


def first_definition(module: ast.Module) -> Definition | None:
    for statement in module.body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            return statement
    return None


def _unparse(node: ast.AST | None) -> str:
    return ast.unparse(node) if node is not None else ""


def signature_of(definition: Definition) -> str:
    if isinstance(definition, ast.ClassDef):
        bases = [*map(_unparse, definition.bases), *(_unparse(k) for k in definition.keywords)]
        return f"class {definition.name}({', '.join(bases)})" if bases else f"class {definition.name}"
    prefix = "async def" if isinstance(definition, ast.AsyncFunctionDef) else "def"
    returns = f" -> {_unparse(definition.returns)}" if definition.returns is not None else ""
    return f"{prefix} {definition.name}({_unparse(definition.args)}){returns}"


def _parameters(definition: Definition) -> dict[str, str]:
    if isinstance(definition, ast.ClassDef):
        return {}
    args = definition.args
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    if args.vararg:
        every.append(args.vararg)
    if args.kwarg:
        every.append(args.kwarg)
    return {arg.arg: _unparse(arg.annotation) for arg in every}


CONTROL_FLOW_KEYS = ("branches", "loops", "try", "returns", "raises", "yields", "awaits", "max_nesting")
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
# node type -> (counter, complexity added, opens a nesting level)
_NESTED: dict[type, str] = {ast.If: "branches", ast.match_case: "branches", ast.For: "loops", ast.AsyncFor: "loops", ast.While: "loops"}
_COUNTED: dict[type, str] = {
    ast.Return: "returns",
    ast.Raise: "raises",
    ast.Yield: "yields",
    ast.YieldFrom: "yields",
    ast.Await: "awaits",
}
_TRY = (ast.Try, *((ast.TryStar,) if hasattr(ast, "TryStar") else ()))


def flow_of(nodes: list[ast.stmt]) -> tuple[int, dict[str, int]]:
    """(cyclomatic complexity, control-flow counts) of a body. Nested function and class
    definitions are left out: they are nodes of their own and count there."""
    counts = dict.fromkeys(CONTROL_FLOW_KEYS, 0)
    complexity = 1
    deepest = 0
    stack: list[tuple[ast.AST, int]] = [(node, 0) for node in reversed(nodes)]
    while stack:
        node, depth = stack.pop()
        kind = type(node)
        if kind in _DEFINITIONS:
            continue
        inner = depth
        nested = _NESTED.get(kind)
        if nested is not None:
            counts[nested] += 1
            complexity += 1
            inner = depth + 1
        elif isinstance(node, _TRY):
            counts["try"] += 1
            complexity += len(node.handlers)
            inner = depth + 1
        elif kind is ast.IfExp:
            counts["branches"] += 1
            complexity += 1
        elif kind is ast.BoolOp:
            complexity += len(node.values) - 1  # type: ignore[attr-defined]
        elif kind is ast.comprehension:
            counts["loops"] += 1
            complexity += 1 + len(node.ifs)  # type: ignore[attr-defined]
        else:
            counted = _COUNTED.get(kind)
            if counted is not None:
                counts[counted] += 1
        deepest = max(deepest, inner)
        for name in node._fields:  # ast.iter_child_nodes, without the Load/Store contexts
            if name == "ctx":
                continue
            value = getattr(node, name, None)
            if isinstance(value, list):
                stack.extend((item, inner) for item in value if isinstance(item, ast.AST))
            elif isinstance(value, ast.AST):
                stack.append((value, inner))
    counts["max_nesting"] = deepest
    return complexity, counts


def exports_of(module: ast.Module) -> list[str]:
    """``__all__`` when the module spells it as a literal list/tuple, else its public top-level names."""
    names: list[str] = []
    for statement in module.body:
        targets: list[ast.expr] = []
        if isinstance(statement, ast.Assign):
            targets = statement.targets
        elif isinstance(statement, ast.AnnAssign | ast.AugAssign):
            targets = [statement.target]
        for target in targets:
            if isinstance(target, ast.Name) and target.id == "__all__":
                value = getattr(statement, "value", None)
                if isinstance(value, ast.List | ast.Tuple):
                    return [elt.value for elt in value.elts if isinstance(elt, ast.Constant) and isinstance(elt.value, str)]
            elif isinstance(target, ast.Name):
                names.append(target.id)
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.append(statement.name)
    seen: dict[str, None] = {}
    for name in names:
        if not name.startswith("_"):
            seen.setdefault(name, None)
    return list(seen)


def module_facts(module: ast.Module) -> NodeFacts:
    complexity, flow = flow_of(module.body)
    return NodeFacts(
        docstring=_first_line(ast.get_docstring(module)),
        complexity=complexity,
        control_flow=flow,
        exports=exports_of(module),
    )


def definition_facts(definition: Definition) -> NodeFacts:
    complexity, flow = flow_of(definition.body)
    is_class = isinstance(definition, ast.ClassDef)
    return NodeFacts(
        signature=signature_of(definition),
        decorators=[_unparse(item) for item in definition.decorator_list],
        parameters=_parameters(definition),
        returns=None if is_class else (_unparse(definition.returns) or None),  # type: ignore[union-attr]
        bases=[_unparse(base) for base in definition.bases] if isinstance(definition, ast.ClassDef) else [],
        docstring=_first_line(ast.get_docstring(definition)),
        complexity=complexity,
        control_flow=flow,
    )


def facts(source: str, node_type: str) -> NodeFacts:
    """Everything this module knows about one node's text (a file node: its whole text)."""
    module = parse_fragment(source)
    if module is None:
        return NodeFacts(parsed=False)
    if node_type == "file":
        return module_facts(module)
    definition = first_definition(module)
    return definition_facts(definition) if definition is not None else NodeFacts(parsed=False)


_BLOCKS = ("body", "orelse", "finalbody", "handlers", "cases")


def _definitions(statements: list[ast.stmt], into: dict[int, Definition]) -> None:
    """Every function and class definition under ``statements`` by its line, through statement
    blocks only (a definition is a statement: expressions need no walk)."""
    stack: list[ast.AST] = list(statements)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            into[node.lineno] = node
        for name in _BLOCKS:
            block = getattr(node, name, None)
            if block:
                stack.extend(block)


@dataclass(slots=True)
class FileFacts:
    """One parse of a whole file: facts of the file and of each definition by its def line."""

    module: ast.Module | None
    by_line: dict[int, Definition] = field(default_factory=dict)
    _cache: dict[int, NodeFacts] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> FileFacts:
        try:
            module = ast.parse(text)
        except (SyntaxError, ValueError):
            return cls(None)
        found = cls(module)
        _definitions(module.body, found.by_line)
        return found

    def of(self, node_type: str, def_line: int) -> NodeFacts | None:
        """Facts of the file (``node_type == 'file'``) or of the definition at ``def_line``."""
        if self.module is None:
            return None
        key = 0 if node_type == "file" else def_line
        cached = self._cache.get(key)
        if cached is None:
            if node_type == "file":
                cached = module_facts(self.module)
            else:
                definition = self.by_line.get(def_line)
                if definition is None:
                    return None
                cached = definition_facts(definition)
            self._cache[key] = cached
        return cached


def _first_line(text: str | None) -> str | None:
    if not text:
        return None
    return text.strip().splitlines()[0].strip() or None


def identifiers(source: str) -> Counter[str]:
    """Identifier counts of ``source`` (keywords and one-letter names left out)."""
    return Counter(word for word in _IDENT_RE.findall(source) if len(word) > 1 and word not in _KEYWORDS)
