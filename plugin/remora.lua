-- Remora plugin entry: the :Remora command and the remote-plugin registration check.
if vim.g.loaded_remora then
  return
end
vim.g.loaded_remora = true

if vim.fn.has("nvim-0.10") == 0 then
  vim.api.nvim_echo({ { "(remora) needs Neovim 0.10 or newer", "ErrorMsg" } }, true, {})
  return
end

-- The venv that `require("remora.build").run()` creates when g:python3_host_prog is unset.
if (vim.g.python3_host_prog == nil or vim.g.python3_host_prog == "") then
  local venv_python = vim.fn.stdpath("data") .. "/remora/venv/bin/python"
  if vim.fn.executable(venv_python) == 1 then
    vim.g.python3_host_prog = venv_python
  end
end

require("remora.commands").create()

-- The manifest (stdpath("data")/rplugin.vim) is sourced during startup, possibly after this
-- file: check the registration once startup is over, or now when lazy-loaded later.
local function check()
  require("remora.notify").guard(require("remora.host").ensure)
end
if vim.v.vim_did_enter == 1 then
  check()
else
  vim.api.nvim_create_autocmd("VimEnter", { once = true, callback = check })
end
