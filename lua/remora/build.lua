-- One-command install of the engine into the Python host's environment:
--   :lua require("remora.build").run()      (lazy.nvim: build = ":lua require('remora.build').run()")
-- Installs this checkout (remora_core + pynvim + deps) into g:python3_host_prog's environment
-- with pip; when g:python3_host_prog is unset, creates stdpath("data")/remora/venv first and
-- plugin/remora.lua then uses that venv's python as g:python3_host_prog.
local notify = require("remora.notify")

local M = {}

--- The plugin's root directory.
function M.plugin_root()
  return require("remora.host").plugin_root()
end

--- The venv created when g:python3_host_prog is unset.
function M.venv_dir()
  return vim.fn.stdpath("data") .. "/remora/venv"
end

--- The python that gets the install (g:python3_host_prog, else the Remora venv's).
function M.python()
  local prog = vim.g.python3_host_prog
  if prog ~= nil and prog ~= "" then
    return vim.fn.expand(prog), false
  end
  return M.venv_dir() .. "/bin/python", true
end

--- The pip command line (exposed for tests and the README).
function M.command(python)
  return { python, "-m", "pip", "install", "--upgrade", M.plugin_root() }
end

M.job = nil -- the running step (vim.SystemObj), or nil

--- Run `cmd` without blocking Neovim: each output line that says what pip does is shown as a
--- progress line; `done(ok, tail)` with the last output lines.
local function step(cmd, done)
  local tail = {}
  local function collect(_, data)
    if not data then
      return
    end
    for line in data:gmatch("[^\r\n]+") do
      tail[#tail + 1] = line
      if #tail > 12 then
        table.remove(tail, 1)
      end
      if line:match("^Collecting ") or line:match("^Installing ") or line:match("^Successfully ")
        or line:match("^Building ") or line:match("^Processing ") then
        vim.schedule(function() notify.info("build: " .. line) end)
      end
    end
  end
  M.job = vim.system(cmd, { text = true, stdout = collect, stderr = collect }, function(result)
    vim.schedule(function()
      M.job = nil
      done(result.code == 0, tail, result.code)
    end)
  end)
end

--- Install (async: Neovim stays usable, progress lines as pip works; a failure names pip's last
--- lines). `on_exit(ok)` when it is over.
---@param on_exit? fun(ok: boolean)
function M.run(on_exit)
  local python, needs_venv = M.python()
  local function finish(ok)
    if on_exit then
      on_exit(ok)
    end
  end
  local function failed(cmd, tail, code)
    notify.error(("build: %q failed (exit %d):\n%s"):format(table.concat(cmd, " "), code, table.concat(tail, "\n")))
    finish(false)
  end
  local function install()
    local cmd = M.command(python)
    notify.info("build: installing remora_core into " .. python .. " (pip; this takes a minute) …")
    step(cmd, function(ok, tail, code)
      if not ok then
        return failed(cmd, tail, code)
      end
      notify.info("installed remora_core into " .. python .. "; restart Neovim, then :checkhealth remora")
      finish(true)
    end)
  end
  if needs_venv and vim.fn.executable(python) == 0 then
    local base = vim.fn.exepath("python3")
    if base == "" then
      error("(remora) build: no python3 on PATH and g:python3_host_prog is unset", 0)
    end
    local cmd = { base, "-m", "venv", M.venv_dir() }
    notify.info("build: creating " .. M.venv_dir() .. " …")
    step(cmd, function(ok, tail, code)
      if not ok then
        return failed(cmd, tail, code)
      end
      vim.g.python3_host_prog = python
      install()
    end)
    return
  end
  install()
end

return M
