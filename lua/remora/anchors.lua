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
    view.draw(buf, map.anchors, options.mode, options.nowrap, options.id, options.concealcursor)
  end
end

M.SYNC_LINES = 3000 -- below this, a save whose line map is not current parses synchronously
M.deferred = {} -- buf -> true: written without anchors, add them when the next map arrives

local function apply(buf, edits)
  if type(edits) == "table" and #edits > 0 then
    require("remora.ui.buffer").apply_anchor_edits(buf, edits)
  end
end

--- BufWritePre. Never blocks the write for long: the line map (computed asynchronously after
--- each change) already carries the anchor edits of its text, so a save whose map is current
--- applies them without any RPC. Otherwise a small buffer asks Python synchronously; a big one
--- is written as is and gets its anchors when its next line map arrives (then `:w` again).
--- On any failure: warns once and writes as is.
---@param buf integer
function M.before_write(buf)
  if not config.options.anchors.on_save then
    return
  end
  local root = project.root(buf)
  if not root then
    return
  end
  local map = linemap.maps[buf]
  if map and map.tick == vim.api.nvim_buf_get_changedtick(buf) and map.edits then
    apply(buf, map.edits)
    return
  end
  if vim.api.nvim_buf_line_count(buf) > M.SYNC_LINES then
    M.deferred[buf] = true
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
  apply(buf, edits)
end

--- A new line map arrived: anchors a big buffer's last save skipped are added now.
---@param buf integer
---@param map remora.LineMap
function M.on_map(buf, map)
  if not M.deferred[buf] or map.tick ~= vim.api.nvim_buf_get_changedtick(buf) then
    return
  end
  M.deferred[buf] = nil
  if map.edits and #map.edits > 0 then
    apply(buf, map.edits)
    notify.info(("anchors added to %s after its write: :w again to save them"):format(
      vim.fn.fnamemodify(vim.api.nvim_buf_get_name(buf), ":t")))
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
