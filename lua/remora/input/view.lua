-- The text box's float: a scratch buffer of the given filetype, the keys handed in.
local api = vim.api

local M = {}

--- Open a centred float for editing `opts.lines`; returns buf, win.
---@param opts table { title, lines, filetype, hint, keys = { {mode, lhs, fn, desc}, ... } }
---@return integer buf
---@return integer win
function M.open(opts)
  local buf = api.nvim_create_buf(false, true)
  vim.bo[buf].buftype = "nofile"
  vim.bo[buf].bufhidden = "wipe"
  vim.bo[buf].swapfile = false
  api.nvim_buf_set_lines(buf, 0, -1, false, opts.lines)
  vim.bo[buf].filetype = opts.filetype
  for _, key in ipairs(opts.keys) do
    vim.keymap.set(key[1], key[2], key[3], { buffer = buf, nowait = true, silent = true, desc = key[4] })
  end
  local width = math.max(math.min(80, vim.o.columns - 6), 20)
  local height = math.max(math.min(math.max(#opts.lines + 2, 8), vim.o.lines - 6), 3)
  local win = api.nvim_open_win(buf, true, {
    relative = "editor",
    width = width,
    height = height,
    row = math.max(math.floor((vim.o.lines - height) / 2) - 1, 0),
    col = math.max(math.floor((vim.o.columns - width) / 2), 0),
    border = "rounded",
    title = " " .. opts.title .. " ",
    footer = " " .. opts.hint .. " ",
    footer_pos = "right",
    style = "minimal",
  })
  vim.wo[win].wrap = true
  vim.wo[win].linebreak = true
  api.nvim_win_set_cursor(win, { #opts.lines, #opts.lines[#opts.lines] })
  vim.cmd("startinsert!")
  return buf, win
end

---@param win? integer
function M.close(win)
  if win and api.nvim_win_is_valid(win) then
    api.nvim_win_close(win, true)
  end
end

return M
