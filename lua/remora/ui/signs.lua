-- Gold signs on the definition line of nodes with a pending proposal (highlight RemoraPending).
local api = vim.api

local M = {}

M.ns = api.nvim_create_namespace("remora.pending")
M.SIGN = "▍"

local function def_line(buf, mark)
  local map = require("remora.linemap").maps[buf]
  if map then
    for _, node in ipairs(map.nodes) do
      if node.id == mark.node_id then
        return node.d
      end
    end
  end
  return mark.line
end

--- Draw the pending `marks` of `root` in every loaded buffer of that project.
function M.draw_root(root, marks)
  for _, buf in ipairs(api.nvim_list_bufs()) do
    if api.nvim_buf_is_loaded(buf) then
      local name = vim.fn.resolve(api.nvim_buf_get_name(buf))
      local prefix = vim.fn.resolve(root) .. "/"
      if name:sub(1, #prefix) == prefix then
        local rel = name:sub(#prefix + 1)
        local mine = vim.tbl_filter(function(mark) return mark.file == rel end, marks or {})
        M.draw(buf, mine)
      end
    end
  end
end

function M.draw(buf, marks)
  api.nvim_buf_clear_namespace(buf, M.ns, 0, -1)
  local count = api.nvim_buf_line_count(buf)
  for _, mark in ipairs(marks) do
    local row = math.min(def_line(buf, mark), count) - 1
    api.nvim_buf_set_extmark(buf, M.ns, row, 0, {
      sign_text = M.SIGN,
      sign_hl_group = "RemoraPending",
      number_hl_group = "RemoraPending",
      priority = 20,
    })
  end
end

--- Sorted 1-based lines carrying a pending sign in `buf`.
function M.lines(buf)
  local lines = {}
  for _, mark in ipairs(api.nvim_buf_get_extmarks(buf, M.ns, 0, -1, {})) do
    lines[#lines + 1] = mark[2] + 1
  end
  table.sort(lines)
  return lines
end

return M
