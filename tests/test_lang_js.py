"""JavaScript / TypeScript / TSX: nodes, imports and calls edges of the fixture project, exactly."""

from __future__ import annotations

from remora_core.languages import language_for_path
from remora_core.languages.js_resolve import PathConfig, load_jsonc
from tests.lang_js_helpers import FIXTURES, build_table

ROOT = FIXTURES / "lang_js"

EXPECTED_NODES = {
    "legacy/api.js": [
        ("class", "api", 1), ("method", "api.start", 2), ("method", "api.stop", 5), ("function", "default", 13),
    ],
    "legacy/greet.js": [("function", "greet", 2)],
    "legacy/main.mjs": [("function", "main", 9), ("function", "main.local", 10), ("function", "main.helper", 11)],
    "legacy/runner.mjs": [("function", "default", 3)],
    "legacy/util.cjs": [("function", "helper", 3), ("function", "double", 7), ("function", "triple", 11)],
    "src/lib/index.ts": [],
    "src/lib/math.ts": [
        ("function", "add", 1),
        ("function", "scale", 7),  # the implementation; overload signatures are not nodes
        ("function", "identity", 11),
        ("class", "Shape", 13),
        ("class", "Pair", 17),
        ("class", "Unit", 19),
        ("function", "outer", 24),
        ("function", "outer.inner", 25),
        ("class", "Calculator", 31),
        ("method", "Calculator.push", 34),
    ],
    "src/lib/shapes.ts": [
        ("function", "sealed", 3),
        ("class", "Square", 8),
        ("method", "Square.constructor", 11),
        ("method", "Square.side2", 13),
        ("method", "Square.side2", 17),
        ("method", "Square.area", 21),
        ("method", "Square.of", 25),
        ("class", "Cube", 30),
        ("method", "Cube.volume", 31),
    ],
    "src/ui/App.tsx": [
        ("class", "Props", 5), ("function", "Label", 7), ("function", "App", 11), ("function", "App.onClick", 13),
    ],
}

EXPECTED_CALLS = {
    ("legacy/api.js:api.start", "legacy/api.js:api.stop"),
    ("legacy/main.mjs:main", "legacy/api.js:api.start"),  # import {api as service}; service.start()
    ("legacy/main.mjs:main", "legacy/main.mjs:main.helper"),
    ("legacy/main.mjs:main", "legacy/main.mjs:main.local"),
    ("legacy/main.mjs:main", "legacy/runner.mjs:default"),  # default import of `export default () =>`
    ("legacy/main.mjs:main", "legacy/util.cjs:double"),  # const {double: twice} = require(...)
    ("legacy/main.mjs:main.helper", "legacy/util.cjs:triple"),  # util.triple(); double(2) is a parameter
    ("legacy/main.mjs:main.local", "legacy/greet.js:greet"),  # module.exports = greet
    ("legacy/runner.mjs:default", "legacy/api.js:default"),
    ("legacy/util.cjs:double", "legacy/util.cjs:helper"),
    ("legacy/util.cjs:triple", "legacy/util.cjs:helper"),
    ("src/lib/math.ts:Calculator.push", "src/lib/math.ts:add"),
    ("src/lib/math.ts:Calculator.push", "src/lib/math.ts:outer"),
    ("src/lib/math.ts:outer", "src/lib/math.ts:outer.inner"),
    ("src/lib/math.ts:outer.inner", "src/lib/math.ts:add"),
    ("src/lib/math.ts:scale", "src/lib/math.ts:add"),
    ("src/lib/shapes.ts:Cube.volume", "src/lib/math.ts:Calculator"),  # new Calculator(), a default import
    ("src/lib/shapes.ts:Cube.volume", "src/lib/math.ts:add"),
    ("src/lib/shapes.ts:Cube.volume", "src/lib/shapes.ts:Square.area"),  # super.area()
    ("src/lib/shapes.ts:Square.of", "src/lib/shapes.ts:Square"),
    ("src/ui/App.tsx:App", "src/lib/math.ts:add"),  # math.add: export * as math from
    ("src/ui/App.tsx:App", "src/lib/shapes.ts:Square.of"),  # Cube.of (inherited) and Square.of
    ("src/ui/App.tsx:App", "src/ui/App.tsx:Label"),  # <Label />
    ("src/ui/App.tsx:App.onClick", "src/lib/math.ts:scale"),
    ("src/ui/App.tsx:Label", "src/lib/math.ts:add"),  # plus: export {add as plus} from, via tsconfig paths
}

EXPECTED_IMPORTS = {
    ("legacy/main.mjs", "legacy/api.js"),
    ("legacy/main.mjs", "legacy/greet.js"),  # require("./greet"): extension added
    ("legacy/main.mjs", "legacy/runner.mjs"),
    ("legacy/main.mjs", "legacy/util.cjs"),
    ("legacy/runner.mjs", "legacy/api.js"),
    ("src/lib/index.ts", "src/lib/math.ts"),
    ("src/lib/index.ts", "src/lib/shapes.ts"),
    ("src/lib/shapes.ts", "src/lib/math.ts"),
    ("src/ui/App.tsx", "src/lib/index.ts"),  # "@lib/index" through tsconfig paths
    ("src/ui/App.tsx", "src/lib/shapes.ts"),  # "../lib/shapes.js" is the .ts file
}


def test_fixture_nodes_exact() -> None:
    _, parsed = build_table(ROOT)
    found = {
        path: [(d.node_type, d.qualname, d.def_line) for d in parsed_file.defs] for path, parsed_file in parsed.items()
    }
    assert found == EXPECTED_NODES
    assert all(not parsed_file.problems for parsed_file in parsed.values())


def test_fixture_edges_exact() -> None:
    table, _ = build_table(ROOT)
    resolver = table
    calls: set[tuple[str, str]] = set()
    imports: set[tuple[str, str]] = set()
    for path in table.files:
        file_calls, file_imports = resolver.resolve_file(path)
        calls.update(file_calls)
        imports.update(file_imports)
    assert calls == EXPECTED_CALLS
    assert imports == EXPECTED_IMPORTS


def test_spans_parents_and_bases() -> None:
    _, parsed = build_table(ROOT)
    shapes = {d.qualname: d for d in parsed["src/lib/shapes.ts"].defs}
    assert (shapes["Square"].start_line, shapes["Square"].def_line, shapes["Square"].end_line) == (7, 8, 28)
    assert shapes["Cube"].bases == ("Square",)
    assert shapes["Square.constructor"].params == ("side",)
    main = {d.qualname: d for d in parsed["legacy/main.mjs"].defs}
    assert main["main.helper"].params == ("double",)
    assert parsed["legacy/greet.js"].file_anchor_insert_line == 2  # after the #! line


def test_extensions_and_declaration_files() -> None:
    def name(path: str) -> str | None:
        language = language_for_path(path)
        return language.name if language is not None else None

    assert name("a/b.mjs") == name("a/b.jsx") == name("a/b.cjs") == "javascript"
    assert name("a/b.cts") == name("a/b.mts") == name("a/b.ts") == "typescript"
    assert name("a/B.tsx") == "tsx"
    assert name("types/index.d.ts") is None
    assert name("a/b.py") == "python"


def test_tsconfig_is_jsonc_and_paths_match_one_star() -> None:
    assert load_jsonc('{"a": [1, 2,], // c\n "b": "//x", /* d */}') == {"a": [1, 2], "b": "//x"}
    config = PathConfig("", "", (("@lib/*", ("src/lib/*",)), ("exact", ("src/e.ts",))))
    assert config.candidates("@lib/x/y") == ["src/lib/x/y", "@lib/x/y"]
    assert config.candidates("exact") == ["src/e.ts", "exact"]


def test_syntax_error_uses_the_dialect() -> None:
    def problem(path: str, text: str) -> str | None:
        language = language_for_path(path)
        assert language is not None
        return language.syntax_error(text.encode())

    assert problem("a.ts", "const x: number = 1;\n") is None
    assert problem("a.js", "const x: number = 1;\n") is not None
    assert problem("a.tsx", "const A = () => <div>{1}</div>;\n") is None
    assert problem("a.ts", "const A = () => <div>{1}</div>;\n") is not None
    assert problem("a.ts", "function (\n") is not None


def test_decorated_method_span_starts_at_its_first_decorator() -> None:
    language = language_for_path("a.ts")
    assert language is not None
    parsed = language.parse(b"class A {\n  @log\n  @trace()\n  m(): void {}\n}\n")
    method = parsed.defs[1]
    assert (method.qualname, method.start_line, method.def_line, method.end_line) == ("A.m", 2, 4, 4)
