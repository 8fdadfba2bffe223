"""JS/TS anchors never change the program: same tokens, same directives, still prettier-clean,
and found again after prettier rewrites the file."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.lang_js_helpers import FIXTURES, code_tokens, inject, js_files, parse_file, prettier

ROOT = FIXTURES / "lang_js"


def _anchor_lines(path: str, data: bytes) -> dict[str, int | None]:
    return {d.qualname + f"@{i}": d.anchor_line for i, d in enumerate(parse_file(path, data).defs)}


@pytest.mark.parametrize("path", js_files(ROOT))
def test_injection_keeps_the_tree_and_anchors_are_found_again(path: str) -> None:
    data = (ROOT / path).read_bytes()
    before = parse_file(path, data)
    injected = inject(path, data)
    assert code_tokens(path, injected) == code_tokens(path, data)
    after = parse_file(path, injected)
    assert [d.qualname for d in after.defs] == [d.qualname for d in before.defs]
    assert all(d.anchor is not None for d in after.defs), path
    assert after.file_anchor is not None
    assert [d.source_hash for d in after.defs] == [d.source_hash for d in before.defs]
    assert inject(path, injected) == injected  # nothing left to add


def _inject_lines(path: str, text: str) -> list[int | None]:
    return [d.inject_line for d in parse_file(path, text.encode()).defs]


def test_a_line_ending_inside_a_template_literal_string_or_block_comment_is_skipped() -> None:
    assert _inject_lines("a.js", "export function tag(a = `one\ntwo`) {\n  return a;\n}\n") == [2]
    assert _inject_lines("a.js", 'function f(a = "x\\\ny") {\n  return a;\n}\n') == [2]
    assert _inject_lines("a.ts", "function f(/* a\n b */ x: number) {\n  return x;\n}\n") == [2]
    text = "const f = (a = `x\ny`) => {\n  return a;\n};\n"
    assert _inject_lines("a.js", text) == [2]
    assert code_tokens("a.js", inject("a.js", text.encode())) == code_tokens("a.js", text.encode())


def test_never_inside_jsx() -> None:
    # The definition line ends inside JSX text: an appended `// rm_` would render as text.
    assert _inject_lines("a.jsx", "const C = () => <div>\n  hi\n</div>;\n") == [None]
    assert _inject_lines("a.tsx", "const D = () => (\n  <div>hi</div>\n);\n") == [1]
    text = "export function E() {\n  return <p>{`a\n${(() => 1)()}`}</p>;\n}\n"
    assert _inject_lines("a.tsx", text) == [1]


def test_one_line_object_methods_share_a_line_only_the_first_gets_it() -> None:
    text = "export const api = { run() {}, stop() {} };\n"
    assert _inject_lines("a.js", text) == [1, None, None]


def test_file_anchor_goes_after_a_shebang_and_before_directives() -> None:
    assert parse_file("a.js", b"#!/usr/bin/env node\nf();\n").file_anchor_insert_line == 2
    assert parse_file("a.js", b"'use strict';\nf();\n").file_anchor_insert_line == 1
    assert parse_file("a.tsx", b'"use client";\nexport {};\n').file_anchor_insert_line == 1


node = shutil.which("node")


@pytest.mark.skipif(node is None, reason="node is not installed")
def test_use_strict_still_applies_after_the_file_anchor(tmp_path: Path) -> None:
    """ECMA-262's directive prologue: comments before "use strict" keep it a directive. With
    the file anchor above it, assigning an undeclared name still throws."""
    assert node is not None
    source = b"#!/usr/bin/env node\n'use strict';\nfunction f() {\n  undeclared = 1;\n}\nf();\n"
    injected = inject("strict.cjs", source)
    assert injected.splitlines()[1].startswith(b"// remora-file: rm_")
    script = tmp_path / "strict.cjs"
    script.write_bytes(injected)
    result = subprocess.run([node, str(script)], check=False, capture_output=True, text=True)
    assert result.returncode != 0 and "ReferenceError: undeclared is not defined" in result.stderr
    script.write_bytes(injected.replace(b"'use strict';", b"'no directive';"))
    assert subprocess.run([node, str(script)], check=False, capture_output=True).returncode == 0  # the control


def _prettier_or_skip() -> str:
    found = prettier()
    if found is None:
        if os.environ.get("REMORA_REQUIRE_PRETTIER") == "1":
            pytest.fail("REMORA_REQUIRE_PRETTIER=1 but prettier is missing (set REMORA_PRETTIER)")
        pytest.skip("prettier is not installed (REMORA_PRETTIER)")
    return found


def _copy_fixture(tmp_path: Path) -> Path:
    target = tmp_path / "project"
    shutil.copytree(ROOT, target)
    return target


@pytest.mark.slow
def test_prettier_clean_files_stay_clean(tmp_path: Path) -> None:
    tool = _prettier_or_skip()
    project = _copy_fixture(tmp_path)
    files = js_files(project)
    clean = subprocess.run([tool, "--check", *files], check=False, cwd=project, capture_output=True, text=True)
    assert clean.returncode == 0, clean.stdout + clean.stderr  # the fixtures are prettier-clean
    for path in files:
        (project / path).write_bytes(inject(path, (project / path).read_bytes()))
    result = subprocess.run([tool, "--check", *files], check=False, cwd=project, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# Not prettier-formatted. (A line ending two definitions, as ``m(){}}`` closing a one-line
# method and its class, is not here: prettier re-attaches its comment to the outer one.)
MESSY = b"""export   function add(a,b){return a+b}
export const api={start(){return api.stop()},stop:()=>0}
export class Box{
static of(x){return new Box(x)}
  get value(){return this.x}
}
export const veryLongFunctionNameForWrapping = (firstArgument, secondArgument, thirdArgument) => firstArgument;
"""


@pytest.mark.slow
def test_anchors_are_found_again_after_prettier_write(tmp_path: Path) -> None:
    tool = _prettier_or_skip()
    script = tmp_path / "messy.js"
    injected = inject("messy.js", MESSY)
    before = parse_file("messy.js", injected)
    ids = {(d.qualname, d.anchor) for d in before.defs if d.anchor is not None}
    assert len(ids) == 6  # a one-line object literal: only its first definition can have one
    script.write_bytes(injected)
    subprocess.run([tool, "--write", str(script)], check=True, capture_output=True)
    formatted = script.read_bytes()
    assert formatted != injected
    after = parse_file("messy.js", formatted)
    assert ids <= {(d.qualname, d.anchor) for d in after.defs}
    assert after.file_anchor == before.file_anchor
    assert code_tokens("messy.js", formatted) == code_tokens("messy.js", subprocess.run(
        [tool, "--stdin-filepath", "messy.js"], input=MESSY, capture_output=True, check=True
    ).stdout)
