-- The side panel's window and buffer: create, draw a render model, close, jump. No decisions,
-- no RPC: the keys and what they do are handed in by the controller (remora.panel).
local api = vim.api
local text = require("remora.text")

local M = {}

--- The panel's width: `panel.width`, but never more than 40 % of the editor's columns (at 80
--- columns the code keeps 56 of them), and at least 24.
---@return integer
function M.width()
  local wanted = require("remora.config").options.panel.width
  return math.max(24, math.min(wanted, math.floor(vim.o.columns * 0.4)))
end

M.ns = api.nvim_create_namespace("remora.panel")
M.buf = nil
M.NAME = "remora://panel"

local WIN_OPTIONS = {
  winfixwidth = true,
  number = false,
  relativenumber = false,
  signcolumn = "no",
  foldcolumn = "0",
  wrap = false,
  list = false,
  spell = false,
  cursorline = true,
  statuscolumn = "",
  colorcolumn = "",
}

M.keys = {} -- { {lhs, fn, desc}, ... } set by the controller before the first draw

--- The panel's scratch buffer (created on first use, with the keys in `M.keys`).
---@return integer
function M.buffer()
  if M.buf and api.nvim_buf_is_valid(M.buf) then
    return M.buf
  end
  local buf = api.nvim_create_buf(false, true)
  api.nvim_buf_set_name(buf, M.NAME)
  vim.bo[buf].buftype = "nofile"
  vim.bo[buf].bufhidden = "hide"
  vim.bo[buf].swapfile = false
  vim.bo[buf].modifiable = false
  vim.bo[buf].filetype = "remora-panel"
  -- Python syntax inside the proposal diffs (" +code" / " -code" lines); the diff colors are
  -- extmarks on top (they set the background, the syntax the foreground).
  pcall(api.nvim_buf_call, buf, function()
    vim.cmd([[
      silent! syntax include @RemoraPython syntax/python.vim
      syntax region RemoraDiffCode start=/^ [+-]\zs/ end=/$/ oneline keepend contains=@RemoraPython
    ]])
  end)
  text.map_keys(buf, M.keys)
  M.buf = buf
  return buf
end

--- The panel's window in the current tab page, or nil.
function M.win()
  if not (M.buf and api.nvim_buf_is_valid(M.buf)) then
    return nil
  end
  for _, win in ipairs(api.nvim_tabpage_list_wins(0)) do
    if api.nvim_win_get_buf(win) == M.buf then
      return win
    end
  end
  return nil
end

--- True when `win` shows the panel.
---@param win integer
function M.is_panel_win(win)
  return M.buf ~= nil and api.nvim_win_is_valid(win) and api.nvim_win_get_buf(win) == M.buf
end

--- Open the panel split (`width` columns) without focusing it; its window.
---@param width integer
function M.open(width)
  local win = M.win()
  if win then
    return win
  end
  win = api.nvim_open_win(M.buffer(), false, { split = "right", win = -1, width = width })
  for name, value in pairs(WIN_OPTIONS) do
    api.nvim_set_option_value(name, value, { win = win, scope = "local" })
  end
  return win
end

--- Close the panel window (leaving an empty window when it is the last).
function M.close()
  local win = M.win()
  if not win then
    return
  end
  if #api.nvim_tabpage_list_wins(0) == 1 then
    -- The panel is the last window of the tab: leave an empty window in its place.
    api.nvim_open_win(api.nvim_create_buf(true, false), true, { split = "left", win = win })
  end
  api.nvim_win_close(win, false)
end

--- Draw `model` (see remora.text) and keep the panel `width` columns wide.
---@param model remora.Model
---@param width? integer
function M.draw(model, width)
  text.draw(M.buffer(), M.ns, model)
  local win = M.win()
  if win and width and api.nvim_win_get_width(win) ~= width and #api.nvim_tabpage_list_wins(0) > 1 then
    api.nvim_win_set_width(win, width)
  end
end

--- The gold border: the panel's separator turns RemoraPending while a proposal waits.
function M.set_pending(pending)
  local win = M.win()
  if win then
    vim.wo[win].winhighlight = pending and "WinSeparator:RemoraPending" or ""
  end
end

--- 1-based line of the cursor when the panel is the current window, else nil.
function M.cursor_line()
  local win = api.nvim_get_current_win()
  if not M.is_panel_win(win) then
    return nil
  end
  return api.nvim_win_get_cursor(win)[1]
end

--- A window of the current tab to show code in: `preferred` when usable, else any non-panel
--- window, else a new one left of the panel.
function M.code_window(preferred)
  if preferred and api.nvim_win_is_valid(preferred) and not M.is_panel_win(preferred)
    and api.nvim_win_get_tabpage(preferred) == api.nvim_get_current_tabpage()
    and api.nvim_win_get_config(preferred).relative == "" then
    return preferred
  end
  for _, win in ipairs(api.nvim_tabpage_list_wins(0)) do
    if not M.is_panel_win(win) and api.nvim_win_get_config(win).relative == "" then
      return win
    end
  end
  local panel = M.win() or api.nvim_get_current_win()
  return api.nvim_open_win(api.nvim_create_buf(true, false), false, { split = "left", win = panel })
end

--- Open `path` in a new split above `win` and focus it (a window already showing it is reused).
---@param win integer
---@param path string
function M.split(win, path)
  for _, other in ipairs(api.nvim_tabpage_list_wins(0)) do
    if vim.fn.resolve(api.nvim_buf_get_name(api.nvim_win_get_buf(other))) == vim.fn.resolve(path) then
      api.nvim_set_current_win(other)
      return
    end
  end
  api.nvim_set_current_win(win)
  vim.cmd("aboveleft split " .. vim.fn.fnameescape(path))
end

--- Show `path` at `line` in `win` and focus it.
function M.jump(win, path, line)
  api.nvim_set_current_win(win)
  local current = api.nvim_buf_get_name(api.nvim_win_get_buf(win))
  if vim.fn.resolve(current) ~= vim.fn.resolve(path) then
    vim.cmd.edit(vim.fn.fnameescape(path))
  end
  local count = api.nvim_buf_line_count(0)
  api.nvim_win_set_cursor(win, { math.max(1, math.min(line, count)), 0 })
  vim.cmd("normal! ^")
end

return M
