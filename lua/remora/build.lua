-- One-command install of the engine into the Python host's environment:
--   :lua require("remora.build").run()      (lazy.nvim: build = ":lua require('remora.build').run()")
-- Installs this checkout (remora_core + pynvim + deps) into g:python3_host_prog's environment
-- with pip; when g:python3_host_prog is unset, creates stdpath("data")/remora/venv first and
-- plugin/remora.lua then uses that venv's python as g:python3_host_prog.
local M = {}

function M.plugin_root()
  return require("remora.host").plugin_root()
end

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

local function run(cmd)
  local result = vim.system(cmd, { text = true }):wait()
  if result.code ~= 0 then
    error(("(remora) build: %q failed (exit %d):\n%s"):format(table.concat(cmd, " "), result.code,
      (result.stderr or "") .. (result.stdout or "")), 0)
  end
  return result
end

function M.run()
  local python, needs_venv = M.python()
  if needs_venv and vim.fn.executable(python) == 0 then
    local base = vim.fn.exepath("python3")
    if base == "" then
      error("(remora) build: no python3 on PATH and g:python3_host_prog is unset", 0)
    end
    run({ base, "-m", "venv", M.venv_dir() })
    vim.g.python3_host_prog = python
  end
  run(M.command(python))
  require("remora.notify").info("installed remora_core into " .. python .. "; restart Neovim, then :checkhealth remora")
end

return M
