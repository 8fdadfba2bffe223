-- Anchors before write: ask the engine which anchors the buffer lacks, apply them as part of
-- the user's last undo step. Display mode toggling (dim / conceal).
local rpc = require("remora.rpc")
local project = require("remora.project")
local config = require("remora.config")

local M = {}

local warned = false

--- BufWritePre. Never blocks the write: on any failure, warns once and writes as is.
function M.before_write(buf)
  if not config.options.anchors.on_save then
    return
  end
  local root = project.root(buf)
  if not root then
    return
  end
  local ok, edits = pcall(rpc.call, "anchors", {
    root = root,
    path = vim.api.nvim_buf_get_name(buf),
    lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false),
  })
  if not ok then
    if not warned then
      warned = true
      vim.notify(tostring(edits) .. " (anchors not added; the file is written as is)", vim.log.levels.WARN)
    end
    return
  end
  if type(edits) == "table" and #edits > 0 then
    require("remora.ui.buffer").apply_anchor_edits(buf, edits)
  end
end

--- `:Remora ids`: conceal <-> dim (from "none", dim).
function M.toggle()
  local options = config.options.anchors
  options.mode = options.mode == "conceal" and "dim" or "conceal"
  local ui = require("remora.ui.anchors")
  for buf, map in pairs(require("remora.linemap").maps) do
    if vim.api.nvim_buf_is_valid(buf) then
      ui.draw(buf, map.anchors, options.mode)
    end
  end
  return options.mode
end

return M
