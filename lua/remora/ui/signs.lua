-- Gold signs on the definition line of nodes with a pending proposal (highlight RemoraPending).
local api = vim.api

local M = {}

M.ns = api.nvim_create_namespace("remora.pending")
M.SIGN = "▍"

--- Draw a sign on each 1-based line of `lines` in `buf` (replacing the previous ones).
---@param buf integer
---@param lines integer[]
function M.draw(buf, lines)
  api.nvim_buf_clear_namespace(buf, M.ns, 0, -1)
  local count = api.nvim_buf_line_count(buf)
  for _, line in ipairs(lines) do
    local row = math.max(math.min(line, count), 1) - 1
    api.nvim_buf_set_extmark(buf, M.ns, row, 0, {
      sign_text = M.SIGN,
      sign_hl_group = "RemoraPending",
      number_hl_group = "RemoraPending",
      priority = 20,
    })
  end
end

--- Sorted 1-based lines carrying a pending sign in `buf`.
---@param buf integer
---@return integer[]
function M.lines(buf)
  local lines = {}
  for _, mark in ipairs(api.nvim_buf_get_extmarks(buf, M.ns, 0, -1, {})) do
    lines[#lines + 1] = mark[2] + 1
  end
  table.sort(lines)
  return lines
end

return M
