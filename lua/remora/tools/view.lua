-- The tool form's floating window: draw a render model; the keys come from the controller.
local api = vim.api
local text = require("remora.text")

local M = {}

M.ns = api.nvim_create_namespace("remora.form")
M.buf, M.win = nil, nil
M.WIDTH = 62
M.keys = {} -- { {lhs, fn, desc}, ... } set by remora.tools

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
  text.map_keys(buf, M.keys)
  M.buf = buf
  return buf
end

--- True while the form's float is open.
function M.is_open()
  return M.win ~= nil and api.nvim_win_is_valid(M.win)
end

---@param model remora.Model
function M.draw(model)
  text.draw(buffer(), M.ns, model)
  if M.is_open() then
    api.nvim_win_set_height(M.win, math.max(#model.lines, 1))
  end
end

--- Open (or re-place) the form's float showing `model`.
---@param model remora.Model
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

--- Put the cursor back into the form (after the text box closed).
function M.focus()
  if M.is_open() then
    api.nvim_set_current_win(M.win)
  end
end

--- Close the form's float.
function M.close()
  if M.is_open() then
    api.nvim_win_close(M.win, true)
  end
  M.win = nil
end

return M
