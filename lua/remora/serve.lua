-- :Remora serve [start|stop|open|status]: the HTTP + SSE service and dashboard (`remora serve`)
-- of the current project, run as a job of this Neovim; the dashboard opens with vim.ui.open.
-- Registered into :Remora by plugin/remora_serve.lua (commands.register).
local notify = require("remora.notify")

local M = {}

M.ACTIONS = { "toggle", "start", "stop", "open", "status" }
M.jobs = {} -- root -> { job = vim.SystemObj, port = n, url = "..." }

local function python()
  local prog = vim.g.python3_host_prog
  if prog and prog ~= "" then
    return vim.fn.expand(prog)
  end
  return "python3"
end

local function read_token(root)
  local lines = vim.fn.filereadable(root .. "/.remora/service.token") == 1
      and vim.fn.readfile(root .. "/.remora/service.token") or {}
  return vim.trim(lines[1] or "")
end

function M.url(root)
  local entry = M.jobs[root]
  if not entry then
    return nil
  end
  local token = read_token(root)
  return ("http://127.0.0.1:%d/%s"):format(entry.port, token ~= "" and ("#token=" .. token) or "")
end

function M.open(root)
  local url = M.url(root)
  if not url then
    error("(remora) the service of " .. root .. " is not running: :Remora serve start", 0)
  end
  if M.opener then -- tests
    M.opener(url)
  else
    vim.ui.open(url)
  end
end

function M.start(root, opts)
  opts = opts or {}
  if M.jobs[root] then
    M.open(root)
    return
  end
  local port = opts.port or vim.g.remora_serve_port or 7777
  local entry = { port = port, ready = false }
  M.jobs[root] = entry
  entry.job = vim.system({ python(), "-m", "remora_core.cli", "serve", root, "--port", tostring(port) }, {
    text = true,
    stdout = function(_, data)
      if data and data:find("remora: serving", 1, true) and not entry.ready then
        entry.ready = true
        vim.schedule(function()
          notify.notify("(remora) dashboard: http://127.0.0.1:" .. port .. "/", vim.log.levels.INFO)
          if opts.open ~= false then
            local ok, err = pcall(M.open, root)
            if not ok then
              notify.notify(tostring(err), vim.log.levels.ERROR)
            end
          end
        end)
      end
    end,
  }, function(done)
    vim.schedule(function()
      if M.jobs[root] == entry then
        M.jobs[root] = nil
        if done.code ~= 0 and not entry.stopping then
          notify.notify(("(remora) remora serve exited %d: %s"):format(done.code, vim.trim(done.stderr or "")),
            vim.log.levels.ERROR)
        end
      end
    end)
  end)
end

function M.stop(root)
  local entry = M.jobs[root]
  if not entry then
    notify.notify("(remora) the service of " .. root .. " is not running", vim.log.levels.INFO)
    return
  end
  entry.stopping = true
  entry.job:kill(15)
  M.jobs[root] = nil
  notify.notify("(remora) service stopped", vim.log.levels.INFO)
end

function M.run(action, root)
  action = action or "toggle"
  if not vim.tbl_contains(M.ACTIONS, action) then
    error(("(remora) unknown serve action %q (start, stop, open, status)"):format(action), 0)
  end
  if action == "toggle" then
    action = M.jobs[root] and "stop" or "start"
  end
  if action == "start" then
    M.start(root)
  elseif action == "stop" then
    M.stop(root)
  elseif action == "open" then
    M.open(root)
  else
    local entry = M.jobs[root]
    notify.notify(entry and ("(remora) serving on http://127.0.0.1:" .. entry.port .. "/") or "(remora) not serving",
      vim.log.levels.INFO)
  end
end

vim.api.nvim_create_autocmd("VimLeavePre", {
  callback = function()
    for _, entry in pairs(M.jobs) do
      entry.job:kill(15)
    end
  end,
})

return M
