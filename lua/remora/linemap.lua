-- Per-buffer line maps (from Python, once per change, asynchronously) and the node under the
-- cursor, resolved here in O(1) per cursor move: no RPC.
local rpc = require("remora.rpc")
local project = require("remora.project")
local config = require("remora.config")

local M = {}

M.maps = {} -- buf -> { tick, root, path, nodes, line_node, anchors }
M.current = nil -- { buf, index, node, map }
M.listeners = {} -- fn(current) when the node under the cursor changes
local timers = {}
local inflight = {}

local function prepare(result)
  local nodes = result.nodes
  local line_node = {}
  for index, node in ipairs(nodes) do
    if node.id == vim.NIL then
      node.id = nil
    end
    for lnum = node.s, node.e do
      line_node[lnum] = index
    end
  end
  result.line_node = line_node
  return result
end

function M.on_change(fn)
  table.insert(M.listeners, fn)
end

local function emit()
  for _, fn in ipairs(M.listeners) do
    fn(M.current)
  end
end

--- The node at `lnum` of `buf` (innermost), from the last map.
function M.node_at(buf, lnum)
  local map = M.maps[buf]
  if not map then
    return nil
  end
  local index = map.line_node[lnum] or 1
  return map.nodes[index], index, map
end

--- CursorMoved: cheap; tells the listeners only when the node changes.
function M.track(force)
  local buf = vim.api.nvim_get_current_buf()
  local map = M.maps[buf]
  if not map then
    return
  end
  local lnum = vim.api.nvim_win_get_cursor(0)[1]
  local index = map.line_node[lnum] or 1
  local current = M.current
  if not force and current and current.buf == buf and current.index == index and current.map == map then
    return
  end
  M.current = { buf = buf, index = index, node = map.nodes[index], map = map }
  emit()
end

function M.receive(result)
  if type(result) ~= "table" then
    return
  end
  local buf = result.buf
  if not vim.api.nvim_buf_is_valid(buf) then
    return
  end
  local old = M.maps[buf]
  if old and old.tick and result.tick and result.tick < old.tick then
    return
  end
  M.maps[buf] = prepare(result)
  require("remora.ui.anchors").draw(buf, result.anchors, config.options.anchors.mode)
  require("remora.agent").on_map(buf, M.maps[buf])
  if vim.api.nvim_get_current_buf() == buf then
    M.track(true)
  end
end

--- Ask Python for a fresh map of `buf` (async).
function M.refresh(buf, callback)
  local root = project.root(buf)
  if not root then
    return false
  end
  local tick = vim.api.nvim_buf_get_changedtick(buf)
  if inflight[buf] == tick then
    return true
  end
  inflight[buf] = tick
  rpc.request("linemap", {
    root = root,
    path = vim.api.nvim_buf_get_name(buf),
    lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false),
    buf = buf,
    tick = tick,
    hub_autostart = config.options.hub.autostart,
  }, function(result, err)
    if inflight[buf] == tick then
      inflight[buf] = nil
    end
    if err then
      vim.notify(err, vim.log.levels.WARN)
    else
      M.receive(result)
    end
    if callback then
      callback(result, err)
    end
  end)
  return true
end

--- Refresh after `debounce_ms` of quiet.
function M.schedule(buf)
  local timer = timers[buf]
  if not timer then
    timer = vim.uv.new_timer()
    timers[buf] = timer
  end
  timer:stop()
  timer:start(config.options.debounce_ms, 0, vim.schedule_wrap(function()
    if vim.api.nvim_buf_is_valid(buf) then
      M.refresh(buf)
    end
  end))
end

function M.detach(buf)
  M.maps[buf] = nil
  inflight[buf] = nil
  local timer = timers[buf]
  if timer then
    timer:stop()
    timer:close()
    timers[buf] = nil
  end
end

return M
