-- Lua <-> Python: synchronous calls for quick requests, notifications + callbacks for the
-- rest, and events pushed from Python. Never parses JSON, never spawns curl.
local host = require("remora.host")
local notify = require("remora.notify")

local M = {}

M.pending = {} -- request id -> callback(result, err)
M.next_id = 0
M.listeners = {} -- push kind -> { fn, ... }

local function nilify(value)
  if value == vim.NIL then
    return nil
  end
  return value
end

---@param method string
---@param params? table
---@return any
--- Synchronous request (only for what takes a few ms). Raises "(remora) ..." on failure.
function M.call(method, params)
  host.ensure()
  local ok, res = pcall(vim.fn.RemoraCall, method, params or vim.empty_dict())
  if not ok then
    error(("(remora) the Python host failed on %q: %s (see :checkhealth remora)"):format(method, res), 0)
  end
  if type(res) ~= "table" then
    error(("(remora) the Python host gave no answer to %q (see :checkhealth remora)"):format(method), 0)
  end
  if res.ok then
    return nilify(res.result)
  end
  error("(remora) " .. tostring(res.error), 0)
end

--- Asynchronous request: `callback(result, err)` runs when Python replies.
---@param method string
---@param params? table
---@param callback fun(result: any, err: string?)
---@return integer? id
function M.request(method, params, callback)
  local ok, err = pcall(host.ensure)
  if not ok then
    callback(nil, err)
    return
  end
  M.next_id = M.next_id + 1
  local id = M.next_id
  M.pending[id] = callback
  local sent, send_err = pcall(vim.fn.RemoraNotify, method, params or vim.empty_dict(), id)
  if not sent then
    M.pending[id] = nil
    callback(nil, ("(remora) the Python host failed on %q: %s"):format(method, send_err))
  end
  return id
end

--- Called by Python with the answer to request `id`.
---@param id string
---@param result any
---@param err any
function M._reply(id, result, err)
  local callback = M.pending[id]
  M.pending[id] = nil
  if callback then
    err = nilify(err)
    callback(nilify(result), err and ("(remora) " .. err) or nil)
  end
end

--- Listen to pushes of `kind` ("events", "hub", "error", "agent", "stream").
---@param kind string
---@param fn fun(payload: table)
function M.on(kind, fn)
  M.listeners[kind] = M.listeners[kind] or {}
  table.insert(M.listeners[kind], fn)
end

--- Called by Python to push `payload` of `kind` to the listeners.
---@param kind string
---@param payload any
function M._push(kind, payload)
  for _, fn in ipairs(M.listeners[kind] or {}) do
    local ok, err = pcall(fn, payload)
    if not ok then
      notify.error(kind .. " listener failed: " .. notify.message(err))
    end
  end
end

return M
