# ruff: noqa: F811 -- pytest fixtures imported from tests.nvim_harness are redefined as parameters
"""A TypeScript buffer in a real headless Neovim: the line map names the node under the cursor
(own-line anchors included), and a save adds a new function's anchor on its own line after the
``{`` (where prettier keeps it)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from remora_core.store.store import Store
from tests.nvim_harness import (  # noqa: F401 -- fixtures
    Editor,
    editor_factory,
    make_project,
    open_file,
    remora_manifest,
)

TS_FILE = """import { helper } from "./helper";

export class Cart {
  items: string[] = [];

  add(item: string): void {
    this.items.push(helper(item));
  }
}

export const total = (cart: Cart): number => cart.items.length;
"""


def test_typescript_buffer_line_map_and_anchors_on_save(editor_factory: Callable[..., Editor], tmp_path: Path) -> None:
    project = make_project(
        tmp_path / "tsproj",
        {"cart.ts": TS_FILE, "helper.ts": "export function helper(s: string): string {\n  return s;\n}\n"},
    )
    store = Store.open(project)
    try:
        stored = {row.qualname: row.id for row in store.nodes_in_file("cart.ts", active_only=True)}
    finally:
        store.close()
    assert set(stored) == {"cart.ts", "Cart", "Cart.add", "total"}
    editor = editor_factory("eager", cwd=project)
    open_file(editor, project / "cart.ts")
    assert editor.nvim.current.buffer.options["filetype"] == "typescript"
    lines = editor.nvim.current.buffer[:]
    assert lines[0] == f"// remora-file: {stored['cart.ts']}"

    def node_at(line: int) -> dict:
        editor.nvim.command(f"call cursor({line}, 1)")
        return editor.lua("return require('remora').current_node()")

    editor.wait_for("require('remora').current_node() ~= nil", 10)
    add_row = next(i for i, line in enumerate(lines) if line.startswith("  add(item")) + 1
    assert lines[add_row] == f"    // {stored['Cart.add']}"  # own line after the "{"
    assert node_at(add_row + 2)["id"] == stored["Cart.add"]
    assert node_at(add_row)["qualname"] == "Cart.add"
    total_row = next(i for i, line in enumerate(lines) if line.startswith("export const total")) + 1
    assert node_at(total_row)["id"] == stored["total"]
    assert node_at(1)["type"] == "file" and node_at(1)["id"] == stored["cart.ts"]
    keys = "Go<CR>export function empty(): boolean {<CR>return true;<CR>}<Esc>"
    editor.nvim.feedkeys(editor.nvim.replace_termcodes(keys, True, False, True), "nx", False)
    editor.nvim.command("write")
    saved = (project / "cart.ts").read_text("utf-8").splitlines()
    at = saved.index("export function empty(): boolean {")
    assert re.fullmatch(r"[ \t]+// rm_[a-z0-9]{8}", saved[at + 1]), saved[at : at + 3]
    editor.assert_no_errors()
