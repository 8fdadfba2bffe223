-- A real text box for chat messages and multi-line tool fields: a small markdown scratch buffer
-- in a float; <CR> in normal mode or <C-s> (normal / insert) sends, q or <Esc> (normal) closes.
local view = require("remora.input.view")

local M = {}

M.current = nil -- { buf, win, on_submit }

--- Open the box. `on_submit(text)` gets the whole text (trailing blank lines removed); closing
--- without sending calls nothing.
---@param opts table { title: string, text?: string, filetype?: string, on_submit: fun(text: string) }
---@return integer buf
function M.open(opts)
  M.close()
  local current = { on_submit = opts.on_submit }
  local function submit()
    if M.current ~= current then
      return
    end
    local text = table.concat(vim.api.nvim_buf_get_lines(current.buf, 0, -1, false), "\n"):gsub("%s+$", "")
    M.close()
    vim.cmd("stopinsert")
    current.on_submit(text)
  end
  local keys = {
    { "n", "<CR>", submit, "Remora: send" },
    { { "n", "i" }, "<C-s>", submit, "Remora: send" },
    { "n", "q", function() M.close() end, "Remora: close without sending" },
    { "n", "<Esc>", function() M.close() end, "Remora: close without sending" },
  }
  current.buf, current.win = view.open({
    title = opts.title,
    lines = vim.split(opts.text or "", "\n", { plain = true }),
    filetype = opts.filetype or "markdown",
    hint = "<C-s> or <CR> (normal mode) sends · q closes",
    keys = keys,
  })
  M.current = current
  return current.buf
end

--- Close the text box without sending.
function M.close()
  local current = M.current
  M.current = nil
  if current then
    view.close(current.win)
  end
end

return M
