-- The ghost placeholder: virtual text over an empty line (highlight RemoraGhost).
local api = vim.api

local M = {}

M.ns = api.nvim_create_namespace("remora.ghost")
local marks = {} -- buf -> { id, text }

local function draw(buf, row, text, status)
  local old = marks[buf]
  marks[buf] = { id = api.nvim_buf_set_extmark(buf, M.ns, row, 0, {
    id = old and old.id or nil,
    virt_text = { { text, "RemoraGhost" }, { "  " .. status, "Comment" } },
    virt_text_pos = "overlay",
    right_gravity = false,
  }), text = text }
end

--- Show the ghost placeholder `text` with `status` on 0-based `row`.
---@param buf integer
---@param row integer
---@param text string
---@param status string
function M.show(buf, row, text, status)
  api.nvim_buf_clear_namespace(buf, M.ns, 0, -1)
  marks[buf] = nil
  draw(buf, row, text, status)
end

--- Change the ghost's status text.
---@param buf integer
---@param status string
function M.status(buf, status)
  local mark = marks[buf]
  if not (mark and api.nvim_buf_is_valid(buf)) then
    return
  end
  local pos = api.nvim_buf_get_extmark_by_id(buf, M.ns, mark.id, {})
  if pos[1] then
    draw(buf, pos[1], mark.text, status)
  end
end

--- Remove the ghost placeholder of `buf`.
---@param buf integer
function M.clear(buf)
  marks[buf] = nil
  if api.nvim_buf_is_valid(buf) then
    api.nvim_buf_clear_namespace(buf, M.ns, 0, -1)
  end
end

return M
