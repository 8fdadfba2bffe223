-- The tool form's floating window: draw a render model, <CR> / q keys. No decisions.
local api = vim.api

local M = {}

M.ns = api.nvim_create_namespace("remora.form")
M.buf, M.win = nil, nil
M.WIDTH = 62

local function buffer()
  if M.buf and api.nvim_buf_is_valid(M.buf) then
    return M.buf
  end
  local buf = api.nvim_create_buf(false, true)
  vim.bo[buf].buftype = "nofile"
  vim.bo[buf].bufhidden = "hide"
  vim.bo[buf].swapfile = false
  vim.bo[buf].modifiable = false
  vim.bo[buf].filetype = "remora-form"
  local function map(lhs, fn, desc)
    vim.keymap.set("n", lhs, fn, { buffer = buf, nowait = true, silent = true, desc = desc })
  end
  map("<CR>", function() require("remora.tools").activate(api.nvim_win_get_cursor(0)[1]) end,
    "Remora: edit the field / run")
  map("q", function() require("remora.tools").close() end, "Remora: close the form")
  map("<Esc>", function() require("remora.tools").close() end, "Remora: close the form")
  M.buf = buf
  return buf
end

function M.is_open()
  return M.win ~= nil and api.nvim_win_is_valid(M.win)
end

function M.draw(model)
  local buf = buffer()
  vim.bo[buf].modifiable = true
  api.nvim_buf_set_lines(buf, 0, -1, false, model.lines)
  vim.bo[buf].modifiable = false
  api.nvim_buf_clear_namespace(buf, M.ns, 0, -1)
  for _, hl in ipairs(model.hls) do
    api.nvim_buf_set_extmark(buf, M.ns, hl[1], hl[2], { end_col = hl[3], hl_group = hl[4], strict = false })
  end
  if M.is_open() then
    api.nvim_win_set_height(M.win, math.max(#model.lines, 1))
  end
end

function M.open(model)
  M.draw(model)
  local height = math.max(#model.lines, 1)
  local config = {
    relative = "editor",
    width = math.min(M.WIDTH, vim.o.columns - 4),
    height = height,
    row = math.max(math.floor((vim.o.lines - height) / 2) - 1, 0),
    col = math.max(math.floor((vim.o.columns - M.WIDTH) / 2), 0),
    border = "rounded",
    title = " Remora tool ",
    style = "minimal",
  }
  if M.is_open() then
    api.nvim_win_set_config(M.win, config)
  else
    M.win = api.nvim_open_win(M.buf, true, config)
  end
  vim.wo[M.win].cursorline = true
end

function M.close()
  if M.is_open() then
    api.nvim_win_close(M.win, true)
  end
  M.win = nil
end

return M
