-- Drawing anchors dimmed (highlight RemoraAnchor) or concealed, with extmarks.
local M = {}

M.ns = vim.api.nvim_create_namespace("remora.anchors")

--- `anchors`: { {lnum (1-based), start_col, end_col}, ... } byte columns.
function M.draw(buf, anchors, mode)
  local api = vim.api
  if not api.nvim_buf_is_valid(buf) then
    return
  end
  api.nvim_buf_clear_namespace(buf, M.ns, 0, -1)
  if mode == "none" or not anchors then
    return
  end
  local line_count = api.nvim_buf_line_count(buf)
  for _, anchor in ipairs(anchors) do
    local row = anchor[1] - 1
    if row < line_count then
      local opts = { end_col = anchor[3], hl_group = "RemoraAnchor", priority = 90, strict = false }
      if mode == "conceal" then
        opts.conceal = ""
      end
      pcall(api.nvim_buf_set_extmark, buf, M.ns, row, anchor[2], opts)
    end
  end
  if mode == "conceal" then
    for _, win in ipairs(api.nvim_list_wins()) do
      if api.nvim_win_get_buf(win) == buf and vim.wo[win].conceallevel < 2 then
        vim.wo[win][0].conceallevel = 2
      end
    end
  end
end

--- Marks currently drawn in `buf` (tests and the health check read this).
function M.marks(buf)
  return vim.api.nvim_buf_get_extmarks(buf, M.ns, 0, -1, { details = true })
end

return M
