-- Per-buffer line maps (from Python, once per change, asynchronously) and the node under the
-- cursor, resolved here in O(1) per cursor move: no RPC. `wait` lets a command issued before
-- the first map arrived wait for it (bounded).
local rpc = require("remora.rpc")
local project = require("remora.project")
local config = require("remora.config")
local notify = require("remora.notify")

local M = {}

---@class remora.LineMap
---@field tick integer
---@field root string
---@field path string relative to root
---@field nodes table[] { s, d, e, id, type, name, qualname, parent }
---@field line_node table<integer, integer>
---@field anchors table[]
---@field syntax_error? any

M.maps = {} ---@type table<integer, remora.LineMap>
M.current = nil -- { buf, index, node, map }
M.listeners = {} -- fn(current) when the node under the cursor changes
M.map_listeners = {} -- fn(buf, map) when a buffer gets a new map
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
  if result.syntax_error == vim.NIL then
    result.syntax_error = nil
  end
  result.line_node = line_node
  return result
end

--- `fn(current)` when the node under the cursor changes.
---@param fn fun(current: table?)
function M.on_change(fn)
  table.insert(M.listeners, fn)
end

--- `fn(buf, map)` when a buffer receives a new line map.
---@param fn fun(buf: integer, map: remora.LineMap)
function M.on_map(fn)
  table.insert(M.map_listeners, fn)
end

local function emit()
  for _, fn in ipairs(M.listeners) do
    fn(M.current)
  end
end

--- The node at `lnum` of `buf` (innermost), from the last map: node, index, map.
---@param buf integer
---@param lnum integer
function M.node_at(buf, lnum)
  local map = M.maps[buf]
  if not map then
    return nil
  end
  local index = map.line_node[lnum] or 1
  return map.nodes[index], index, map
end

--- CursorMoved: cheap; tells the listeners only when the node changes.
---@param force? boolean
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

--- A line map arrived from Python: store it, tell the listeners, track the cursor.
---@param result any
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
  for _, fn in ipairs(M.map_listeners) do
    local ok, err = pcall(fn, buf, M.maps[buf])
    if not ok then
      notify.error(err)
    end
  end
  if vim.api.nvim_get_current_buf() == buf then
    M.track(true)
  end
end

--- Ask Python for a fresh map of `buf` (async). False when the buffer is not a project file.
---@param buf integer
---@param callback? fun(result: any, err: string?)
---@return boolean
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
      M.errors[buf] = err
      notify.warn(err)
    else
      M.errors[buf] = nil
      M.receive(result)
    end
    if callback then
      callback(result, err)
    end
  end)
  return true
end
M.errors = {} -- buf -> last line-map error

--- The map of `buf` for its current text, waiting (bounded by `wait_ms`) when a command comes
--- before the first map or right after an edit (the debounced refresh has not run yet: the old
--- map's lines would name another node). Raises "(remora) ..." when the buffer has none.
---@param buf integer
---@return remora.LineMap
function M.wait(buf)
  local map = M.maps[buf]
  local tick = vim.api.nvim_buf_get_changedtick(buf)
  if map and map.tick == tick then
    return map
  end
  if map then
    M.refresh(buf)
    vim.wait(config.options.wait_ms, function()
      local now = M.maps[buf]
      return now ~= nil and now.tick == tick
    end, 5)
    return M.maps[buf] or map
  end
  if not project.root(buf) then
    error("(remora) not a Python buffer of a Remora project (no .remora/ above it)", 0)
  end
  M.errors[buf] = nil
  M.refresh(buf)
  vim.wait(config.options.wait_ms, function() return M.maps[buf] ~= nil or M.errors[buf] ~= nil end, 10)
  map = M.maps[buf]
  if map then
    return map
  end
  if M.errors[buf] then
    error(M.errors[buf], 0)
  end
  error(("(remora) the line map of this buffer did not arrive within %d ms (is the Python host running? see"
    .. " :checkhealth remora)"):format(config.options.wait_ms), 0)
end

--- Refresh after `debounce_ms` of quiet.
---@param buf integer
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

---@param buf integer
function M.detach(buf)
  M.maps[buf] = nil
  inflight[buf] = nil
  M.errors[buf] = nil
  local timer = timers[buf]
  if timer then
    timer:stop()
    timer:close()
    timers[buf] = nil
  end
end

return M
