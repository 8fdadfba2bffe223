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


class _Flow(ast.NodeVisitor):
    def __init__(self) -> None:
        self.complexity = 1
        self.counts: Counter[str] = Counter()
        self.depth = 0
        self.max_depth = 0

    def _nested(self, node: ast.AST, kind: str, weight: int = 1) -> None:
        self.counts[kind] += 1
        self.complexity += weight
        self.depth += 1
        self.max_depth = max(self.max_depth, self.depth)
        self.generic_visit(node)
        self.depth -= 1

    def visit_If(self, node: ast.If) -> None:
        self._nested(node, "branches")

    def visit_For(self, node: ast.For) -> None:
        self._nested(node, "loops")

    visit_AsyncFor = visit_For  # type: ignore[assignment]

    def visit_While(self, node: ast.While) -> None:
        self._nested(node, "loops")

    def visit_Try(self, node: ast.Try) -> None:
        self.counts["try"] += 1
        self.complexity += len(node.handlers)
        self.depth += 1
        self.max_depth = max(self.max_depth, self.depth)
        self.generic_visit(node)
        self.depth -= 1

    visit_TryStar = visit_Try  # type: ignore[assignment]

    def visit_match_case(self, node: ast.match_case) -> None:
        self._nested(node, "branches")

    def visit_IfExp(self, node: ast.IfExp) -> None:
        self.counts["branches"] += 1
        self.complexity += 1
        self.generic_visit(node)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        self.complexity += len(node.values) - 1
        self.generic_visit(node)

    def visit_comprehension(self, node: ast.comprehension) -> None:
        self.complexity += 1 + len(node.ifs)
        self.counts["loops"] += 1
        self.generic_visit(node)

    def visit_Return(self, node: ast.Return) -> None:
        self.counts["returns"] += 1
        self.generic_visit(node)

    def visit_Raise(self, node: ast.Raise) -> None:
        self.counts["raises"] += 1
        self.generic_visit(node)

    def visit_Yield(self, node: ast.Yield) -> None:
        self.counts["yields"] += 1
        self.generic_visit(node)

    visit_YieldFrom = visit_Yield  # type: ignore[assignment]

    def visit_Await(self, node: ast.Await) -> None:
        self.counts["awaits"] += 1
        self.generic_visit(node)


CONTROL_FLOW_KEYS = ("branches", "loops", "try", "returns", "raises", "yields", "awaits", "max_nesting")


def flow_of(nodes: list[ast.stmt]) -> tuple[int, dict[str, int]]:
    """(cyclomatic complexity, control-flow counts) of a body (nested definitions included)."""
    visitor = _Flow()
    for node in nodes:
        visitor.visit(node)
    counts = {key: visitor.counts.get(key, 0) for key in CONTROL_FLOW_KEYS}
    counts["max_nesting"] = visitor.max_depth
    return visitor.complexity, counts


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


def facts(source: str, node_type: str) -> NodeFacts:
    """Everything this module knows about one node's text (a file node: its whole text)."""
    module = parse_fragment(source)
    if module is None:
        return NodeFacts(parsed=False)
    if node_type == "file":
        complexity, flow = flow_of(module.body)
        return NodeFacts(
            docstring=_first_line(ast.get_docstring(module)),
            complexity=complexity,
            control_flow=flow,
            exports=exports_of(module),
        )
    definition = first_definition(module)
    if definition is None:
        return NodeFacts(parsed=False)
    complexity, flow = flow_of(definition.body)
    return NodeFacts(
        signature=signature_of(definition),
        decorators=[_unparse(item) for item in definition.decorator_list],
        parameters=_parameters(definition),
        returns=_unparse(definition.returns) or None if not isinstance(definition, ast.ClassDef) else None,
        bases=[_unparse(base) for base in definition.bases] if isinstance(definition, ast.ClassDef) else [],
        docstring=_first_line(ast.get_docstring(definition)),
        complexity=complexity,
        control_flow=flow,
    )


def _first_line(text: str | None) -> str | None:
    if not text:
        return None
    return text.strip().splitlines()[0].strip() or None


def identifiers(source: str) -> Counter[str]:
    """Identifier counts of ``source`` (keywords and one-letter names left out)."""
    return Counter(word for word in _IDENT_RE.findall(source) if len(word) > 1 and word not in _KEYWORDS)
