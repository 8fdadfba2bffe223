-- "Latest request wins": at most one request of a kind in flight; while it runs, only the
-- newest next request is kept (older queued ones are dropped, their callbacks never run).
local M = {}

---@class remora.Latest
---@field busy boolean
---@field queued? fun(done: fun())
local Latest = {}
Latest.__index = Latest

---@return remora.Latest
function M.new()
  return setmetatable({ busy = false, queued = nil }, Latest)
end

--- Run `start(done)` now, or after the one in flight (replacing any queued start). `start`
--- must call `done()` exactly once when its request finished.
---@param start fun(done: fun())
function Latest:run(start)
  if self.busy then
    self.queued = start
    return
  end
  self.busy = true
  local finished = false
  start(function()
    if finished then
      return
    end
    finished = true
    self.busy = false
    local nxt = self.queued
    self.queued = nil
    if nxt then
      self:run(nxt)
    end
  end)
end

--- True while a request runs or waits.
---@return boolean
function Latest:pending()
  return self.busy or self.queued ~= nil
end

return M
