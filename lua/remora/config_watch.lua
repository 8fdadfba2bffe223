-- `.remora/config.toml` changes apply without restarting Neovim: the file is watched per
-- project; on a change the Python host reads it again (a bad edit keeps the last good one and
-- says why).
local rpc = require("remora.rpc")
local notify = require("remora.notify")

local M = {}

M.watched = {} -- root -> { handle, timer }
M.DEBOUNCE_MS = 200
M.last = nil -- last answer (tests)

--- Watch `root`'s config file (idempotent).
---@param root string
function M.watch(root)
  if M.watched[root] then
    return
  end
  local path = root .. "/.remora/config.toml"
  local handle = vim.uv.new_fs_event()
  local timer = vim.uv.new_timer()
  if not (handle and timer) then
    return
  end
  M.watched[root] = { handle = handle, timer = timer }
  -- Watch the directory: editors replace the file (write a new one, rename) on save.
  handle:start(root .. "/.remora", {}, function(err, name)
    if err or (name and name ~= "config.toml") then
      return
    end
    timer:stop()
    timer:start(M.DEBOUNCE_MS, 0, vim.schedule_wrap(function() M.reload(root) end))
  end)
  M.path = path
end

--- Ask the host to read `root`'s configuration again.
---@param root string
function M.reload(root)
  rpc.request("reload_config", { root = root }, function(result, err)
    M.last = result or { ok = false, message = err }
    if err then
      notify.error(err)
    elseif result.ok then
      notify.info(result.message)
    else
      notify.warn(result.message)
    end
  end)
end

return M
