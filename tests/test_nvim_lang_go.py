# ruff: noqa: F811 -- pytest fixtures imported from tests.nvim_harness are redefined as parameters
"""A Go buffer in a real headless Neovim: the line map names the node under the cursor, and a
save adds ``// rm_xxxxxxxx`` anchors the way gofmt spaces comments (the file anchor joins the
``package`` line)."""

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

GO_FILE = """// Package shop sells things.
package shop

// Cart holds items.
type Cart struct {
\tItems []string
}

// Add puts an item in the cart.
func (c *Cart) Add(item string) {
\tc.Items = append(c.Items, item)
}

func Total(c *Cart) int {
\treturn len(c.Items)
}
"""


def test_go_buffer_line_map_and_anchors_on_save(editor_factory: Callable[..., Editor], tmp_path: Path) -> None:
    project = make_project(tmp_path / "goproj", {"go.mod": "module example.com/shop\n\ngo 1.19\n", "cart.go": GO_FILE})
    store = Store.open(project)
    try:
        stored = {row.qualname: row.id for row in store.nodes_in_file("cart.go", active_only=True)}
    finally:
        store.close()
    assert set(stored) == {"cart.go", "Cart", "Cart.Add", "Total"}
    editor = editor_factory("eager", cwd=project)
    open_file(editor, project / "cart.go")
    assert editor.nvim.current.buffer.options["filetype"] == "go"
    lines = editor.nvim.current.buffer[:]
    assert lines[1] == f"package shop // remora-file: {stored['cart.go']}"

    def node_at(line: int) -> dict:
        editor.nvim.command(f"call cursor({line}, 1)")
        return editor.lua("return require('remora').current_node()")

    editor.wait_for("require('remora').current_node() ~= nil", 10)
    add_row = next(i for i, line in enumerate(lines) if line.startswith("func (c *Cart) Add")) + 1
    assert node_at(add_row + 1)["id"] == stored["Cart.Add"]
    assert node_at(add_row)["qualname"] == "Cart.Add"
    assert node_at(1)["type"] == "file" and node_at(1)["id"] == stored["cart.go"]
    # A new func typed and saved gets a gofmt-shaped anchor.
    editor.nvim.feedkeys(editor.nvim.replace_termcodes("Go<CR>func Empty() bool {<CR>return true<CR>}<Esc>", True, False, True), "nx", False)
    editor.nvim.command("write")
    saved = (project / "cart.go").read_text("utf-8").splitlines()
    added = [line for line in saved if line.startswith("func Empty() bool {")]
    assert len(added) == 1 and re.fullmatch(r"func Empty\(\) bool \{ // rm_[a-z0-9]{8}", added[0]), added
    editor.assert_no_errors()
