-- :Remora hub status|start|restart|stop, through the Python host (never blocks Neovim), and the
-- watchdog: a hub that dies (kill -9, crash) is noticed within WATCH_MS * 2, said once, and
-- restarted when hub.autostart is on.
local rpc = require("remora.rpc")
local notify = require("remora.notify")
local config = require("remora.config")

local M = {}

M.ACTIONS = { "status", "start", "restart", "stop" }
M.last = nil -- last answer (tests, health)
M.WATCH_MS = 1000
M.watched = {} -- root -> { timer, running = bool?, busy = bool, told = bool }

--- Run a hub action for `root`; `callback(result, err)` after.
---@param action string
---@param root string
---@param callback? fun(result: table?, err: string?)
---@param quiet? boolean no message
function M.run(action, root, callback, quiet)
  action = action or "status"
  if not vim.tbl_contains(M.ACTIONS, action) then
    error(("(remora) unknown hub action %q (status, start, restart, stop)"):format(action), 0)
  end
  local watch = M.watched[root]
  if watch and action == "stop" then
    watch.running = false -- stopped on purpose: not a death to report
  end
  rpc.request("hub", { root = root, action = action }, function(result, err)
    M.last = result or { error = err }
    if err then
      notify.error(err)
    elseif not quiet then
      local message = result.message
      if action == "stop" and not result.running then
        message = ("remora-hub for %s stopped"):format(root)
      end
      notify.info(message)
    end
    if watch and result then
      watch.running = result.running
    end
    if callback then
      callback(result, err)
    end
  end)
end

--- One watchdog check of `root`.
---@param root string
function M.check(root)
  local watch = M.watched[root]
  if not watch or watch.busy then
    return
  end
  watch.busy = true
  rpc.request("hub", { root = root, action = "status" }, function(result, err)
    watch.busy = false
    if err or type(result) ~= "table" then
      return
    end
    if result.running then
      watch.running, watch.told = true, false
      return
    end
    if watch.running and not watch.told then
      watch.running, watch.told = false, true
      if config.options.hub.autostart then
        notify.warn(("remora-hub for %s died; restarting it (hub.autostart)"):format(root))
        M.run("start", root, nil, true)
      else
        notify.warn(("remora-hub for %s died: edits are not indexed until :Remora hub start"):format(root))
      end
    end
  end)
end

--- Follow `root`'s hub (idempotent).
---@param root string
function M.watch(root)
  if M.watched[root] then
    return
  end
  local watch = { running = nil, busy = false, told = false, timer = vim.uv.new_timer() }
  M.watched[root] = watch
  watch.timer:start(M.WATCH_MS, M.WATCH_MS, vim.schedule_wrap(function() M.check(root) end))
end

--- Stop every watchdog (tests, VimLeavePre).
function M.unwatch()
  for root, watch in pairs(M.watched) do
    watch.timer:stop()
    watch.timer:close()
    M.watched[root] = nil
  end
end

return M
