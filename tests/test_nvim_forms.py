# ruff: noqa: F811 -- pytest fixtures imported from tests.nvim_harness / tests.fake_llm are redefined as parameters
"""Tool forms generated from the tools' JSON schemas (core + extension): fields, validation
messages, Execute as the human, the result in the panel."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.fake_llm import FakeLLM, fake_llm_fixture  # noqa: F401 -- fixture
from tests.nvim_agent_helpers import agent_project, answer, goto, node_ids, press, stub_prompts, wait_panel
from tests.nvim_harness import MAIN, MODELS, Editor, editor_factory, open_file, remora_manifest  # noqa: F401

EXTENSION = '''
from typing import Literal

from remora_core.agents import ExtensionNode, tool


class LoaderTools(ExtensionNode):
    match_type = "class"
    match_pattern = "Loader"

    @tool
    def load_sample(
        self,
        path: str,
        limit: int,
        ratio: float = 0.5,
        strict: bool = False,
        mode: Literal["fast", "safe"] = "fast",
        tags: list[str] | None = None,
    ) -> str:
        """Load a sample of the file.

        Args:
            path: The file to read.
            limit: How many records.
            ratio: Sampling ratio.
            strict: Fail on bad records.
            mode: Speed or safety.
            tags: Labels to attach.
        """
        return f"path={path} limit={limit} ratio={ratio} strict={strict} mode={mode} tags={tags}"
'''

FORM_LINES = "vim.api.nvim_buf_get_lines(require('remora.tools.view').buf, 0, -1, false)"


def _form(editor: Editor) -> list[str]:
    return editor.lua("return " + FORM_LINES)


def _activate(editor: Editor, text: str) -> None:
    """<CR> on the first form line starting with ``text`` (the form window is current)."""
    row = next(i for i, line in enumerate(_form(editor)) if line.startswith(text)) + 1
    editor.nvim.command(f"call cursor({row}, 1)")
    press(editor, "<CR>")


def test_extension_tool_form_validates_and_executes(editor_factory: Callable[..., Editor], tmp_path: Path,
                                                    fake_llm: FakeLLM) -> None:
    root = agent_project(tmp_path / "proj", fake_llm.base_url)
    (root / ".remora" / "models").mkdir()
    (root / ".remora" / "models" / "loader_tools.py").write_text(EXTENSION, encoding="utf-8")
    ids = node_ids(root, "models.py")
    editor = editor_factory("eager", cwd=root)
    stub_prompts(editor)
    open_file(editor, root / "models.py")
    goto(editor, "class Loader")
    code_win = editor.nvim.current.window.handle
    answer(editor, "load_sample")
    editor.nvim.command("Remora tools")
    editor.wait_for("require('remora.tools.view').is_open()", 15)
    # The picker listed core and extension tools (the same schemas the model gets).
    assert editor.lua("return _G.remora_test.prompts[1]") == "Tools of " + ids["Loader"]
    win = editor.nvim.current.window.handle
    assert win != code_win and editor.nvim.api.win_get_config(win)["relative"] == "editor"
    lines = _form(editor)
    assert lines[0] == f" Tool load_sample of {ids['Loader']}"
    assert lines[1] == " Load a sample of the file."
    fields = [line for line in lines if line.startswith(" ") and not line.startswith("  ") and "  " in line[1:]]
    assert fields[:6] == [
        " path  string, required",
        " limit  integer, required",
        " ratio  number",
        " strict  boolean",
        " mode  enum",
        " tags  list of string",
    ]
    assert "   (choose: fast | safe)" not in lines and "   ‹fast›  (fast | safe)" in lines  # default shown
    assert "   [ ] false" in lines and "   0.5" in lines
    # Execute with the required fields empty: validation messages, nothing runs.
    _activate(editor, " [ Execute ]")
    lines = _form(editor)
    assert lines.count("   ! required") == 2 and " fix the fields marked !" in lines
    # Fill in: a bad integer first, then good values; toggle the boolean; choose the enum; a list.
    answer(editor, "data.csv")
    _activate(editor, " path")
    answer(editor, "ten")
    _activate(editor, " limit")
    assert '   ! "ten" is not an integer' in _form(editor)
    answer(editor, "10")
    _activate(editor, " limit")
    _activate(editor, " strict")
    answer(editor, "safe")
    _activate(editor, " mode")
    answer(editor, "a, b")
    _activate(editor, " tags")
    lines = _form(editor)
    assert "   data.csv" in lines and "   10" in lines and "   [x] true" in lines
    assert "   ‹safe›  (fast | safe)" in lines and "   a, b" in lines
    assert not any(line.startswith("   !") for line in lines)
    groups = editor.lua("""
      local ui = require('remora.tools.view')
      local out = {}
      for _, m in ipairs(vim.api.nvim_buf_get_extmarks(ui.buf, ui.ns, 0, -1, { details = true })) do
        out[#out + 1] = m[4].hl_group
      end
      return out""")
    assert "RemoraFormField" in groups and "RemoraFormButton" in groups
    _activate(editor, " [ Execute ]")
    lines = wait_panel(editor, " Tool load_sample: ok")
    assert not editor.lua("return require('remora.tools.view').is_open()")
    result = " ".join(line.strip() for line in lines[lines.index(" Tool load_sample: ok") + 1:])
    assert result.startswith("path=data.csv limit=10 ratio=0.5 strict=True mode=safe tags=['a', 'b']")
    assert fake_llm.chat_requests() == []  # the human called the tool: no model involved
    editor.assert_no_errors()


def test_core_tool_form_read_node(editor_factory: Callable[..., Editor], tmp_path: Path, fake_llm: FakeLLM) -> None:
    root = agent_project(tmp_path / "proj", fake_llm.base_url, {"models.py": MODELS, "main.py": MAIN})
    ids = node_ids(root, "models.py")
    editor = editor_factory("eager", cwd=root)
    stub_prompts(editor)
    open_file(editor, root / "models.py")
    goto(editor, "def helper")
    editor.nvim.command("Remora tools read_node")
    editor.wait_for("require('remora.tools.view').is_open()", 15)
    assert " target_id  string, required" in _form(editor)
    # The whole docstring of the tool, wrapped to the form's width (not only its first line).
    text = " ".join(line.strip() for line in _form(editor))
    assert "Read the current source code of another node. Read-only: to request changes, use message_node" in text
    assert all(len(line) <= 62 for line in _form(editor))
    answer(editor, ids["parse"])
    _activate(editor, " target_id")
    _activate(editor, " [ Execute ]")
    lines = wait_panel(editor, " Tool read_node: ok")
    assert any(line.startswith("   def parse(text):") for line in lines)
    editor.assert_no_errors()


def test_form_logic_kinds_and_parsing(editor_factory: Callable[..., Editor]) -> None:
    editor = editor_factory("eager")
    result = editor.lua("""
      local forms = require('remora.tools.forms')
      local schema = { type = 'object', required = { 'n', 'mode' }, properties = {
        n = { type = 'integer' }, x = { type = 'number' }, flag = { type = 'boolean' },
        tags = { type = 'array', items = { type = 'integer' } }, mode = { enum = { 'a', 'b' } },
        opt = { anyOf = { { type = 'integer' }, { type = 'null' } }, default = vim.NIL } } }
      local kinds = {}
      for _, f in ipairs(forms.fields(schema)) do kinds[#kinds + 1] = f.name .. ':' .. f.kind end
      local form = forms.new({ name = 't', parameters = schema })
      local errs = {
        forms.set(form, 'n', '1.5'), forms.set(form, 'x', 'abc'), forms.set(form, 'tags', '1, x'),
        forms.set(form, 'mode', 'c'), forms.set(form, 'flag', 'maybe'),
      }
      local args, missing = forms.arguments(form)
      missing = vim.deepcopy(missing)
      forms.set(form, 'n', '3'); forms.set(form, 'x', '2.5'); forms.set(form, 'tags', '1, 2')
      forms.set(form, 'mode', 'b'); forms.set(form, 'flag', 'yes'); forms.set(form, 'opt', '7')
      local good = forms.arguments(form)
      return { kinds, errs, args == nil, missing, good }""")
    kinds, errors, refused, missing, good = result
    assert kinds == ["mode:enum", "n:integer", "flag:boolean", "opt:integer", "tags:list", "x:number"]
    assert errors == ['"1.5" is not an integer', '"abc" is not a number', 'item "x" is not an integer',
                      '"c" is not one of: a, b', '"maybe" is not true or false']
    assert refused and missing["n"] == '"1.5" is not an integer' and missing["mode"] == '"c" is not one of: a, b'
    assert good == {"n": 3, "x": 2.5, "tags": [1, 2], "mode": "b", "flag": True, "opt": 7}
