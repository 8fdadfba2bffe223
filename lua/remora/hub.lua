-- :Remora hub status|start|restart|stop, through the Python host (never blocks Neovim).
local rpc = require("remora.rpc")
local notify = require("remora.notify")

local M = {}

M.ACTIONS = { "status", "start", "restart", "stop" }
M.last = nil -- last answer (tests, health)

function M.run(action, root, callback)
  action = action or "status"
  if not vim.tbl_contains(M.ACTIONS, action) then
    error(("(remora) unknown hub action %q (status, start, restart, stop)"):format(action), 0)
  end
  rpc.request("hub", { root = root, action = action }, function(result, err)
    M.last = result or { error = err }
    if err then
      notify.error(err)
    else
      notify.info(result.message)
    end
    if callback then
      callback(result, err)
    end
  end)
end

return M
