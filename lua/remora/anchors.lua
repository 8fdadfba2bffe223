-- Anchors before write: ask the engine which anchors the buffer lacks, apply them as part of
-- the user's last undo step. Display mode toggling.
local rpc = require("remora.rpc")
local project = require("remora.project")
local config = require("remora.config")
local notify = require("remora.notify")
local linemap = require("remora.linemap")
local view = require("remora.ui.anchors")

local M = {}

local warned = false

--- Draw the anchors of `buf` from its line map in the configured mode.
---@param buf integer
function M.draw(buf)
  if buf == 0 then
    buf = vim.api.nvim_get_current_buf()
  end
  local map = linemap.maps[buf]
  if map then
    local options = config.options.anchors
    view.draw(buf, map.anchors, options.mode, options.nowrap)
  end
end

--- BufWritePre. Never blocks the write: on any failure, warns once and writes as is.
---@param buf integer
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
      notify.warn(notify.message(edits) .. " (anchors not added; the file is written as is)")
    end
    return
  end
  if type(edits) == "table" and #edits > 0 then
    require("remora.ui.buffer").apply_anchor_edits(buf, edits)
  end
end

--- `:Remora ids`: the hiding mode (compact / conceal) <-> dim.
---@return string mode the new mode
function M.toggle()
  local options = config.options.anchors
  if options.mode == "dim" or options.mode == "none" then
    options.mode = M.hidden_mode or "compact"
  else
    M.hidden_mode = options.mode
    options.mode = "dim"
  end
  for buf in pairs(linemap.maps) do
    if vim.api.nvim_buf_is_valid(buf) then
      M.draw(buf)
    end
  end
  return options.mode
end

return M
