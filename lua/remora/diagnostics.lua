-- Index problems of a buffer (syntax errors) as vim.diagnostic entries in namespace "remora",
-- cleared when the buffer parses again.
local config = require("remora.config")

local M = {}

M.ns = vim.api.nvim_create_namespace("remora")

--- Show the problems of `map` (a line map) in `buf`.
---@param buf integer
---@param map remora.LineMap
function M.show(buf, map)
  if not vim.api.nvim_buf_is_valid(buf) then
    return
  end
  local problems = map.problems or {}
  if not config.options.diagnostics or #problems == 0 then
    vim.diagnostic.reset(M.ns, buf)
    return
  end
  local count = vim.api.nvim_buf_line_count(buf)
  local items = {}
  for _, problem in ipairs(problems) do
    items[#items + 1] = {
      lnum = math.max(math.min(tonumber(problem.line) or 1, count), 1) - 1,
      col = tonumber(problem.col) or 0,
      severity = vim.diagnostic.severity.ERROR,
      source = "remora",
      message = tostring(problem.message) .. " (the definitions after it may be missing from the index)",
    }
  end
  vim.diagnostic.set(M.ns, buf, items)
end

return M
