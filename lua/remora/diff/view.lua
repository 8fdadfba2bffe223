-- The inline diff's drawing in a code buffer: removed lines highlighted in place (the buffer is
-- not changed until you accept), added lines as virtual lines under them, one hint line above.
-- Draws what it is given (`layout`), no decisions, no RPC.
local api = vim.api

local M = {}

M.ns = api.nvim_create_namespace("remora.inline_diff")

---@class remora.InlineHunk
---@field index integer 0-based hunk index (as Python counts)
---@field first integer 0-based first buffer row the hunk covers
---@field last integer 0-based last buffer row the hunk covers
---@field changed integer 0-based first row the hunk changes (where ]h / [h go)
---@field skipped boolean
---@field removed integer[] 0-based rows removed by the hunk
---@field added table[] { row = 0-based row, above = bool, lines = string[] }

--- Where each hunk of `proposal` lands in a buffer whose node starts on 1-based line `start`.
---@param proposal table { hunks = { {index, header, lines} } }
---@param start integer
---@param skip table<integer, boolean> hunk index -> skipped
---@return remora.InlineHunk[]
function M.layout(proposal, start, skip)
  local out = {}
  for _, hunk in ipairs(proposal.hunks) do
    local old = tonumber(hunk.header:match("^@@ %-(%d+)")) or 1
    local row = start - 1 + old - 1
    local item = { index = hunk.index, first = row, last = row, skipped = skip[hunk.index] == true,
      removed = {}, added = {} }
    local pending = {}
    local last_row = nil
    local function flush()
      if #pending > 0 then
        if last_row then
          item.added[#item.added + 1] = { row = last_row, above = false, lines = pending }
        else
          item.added[#item.added + 1] = { row = row, above = true, lines = pending }
        end
        pending = {}
      end
    end
    for _, line in ipairs(hunk.lines) do
      local sign, body = line:sub(1, 1), line:sub(2)
      if sign == "+" then
        pending[#pending + 1] = body
      else
        flush()
        if sign == "-" then
          item.removed[#item.removed + 1] = row
        end
        last_row = row
        row = row + 1
      end
    end
    flush()
    item.last = math.max(row - 1, item.first)
    local first_add = item.added[1] and (item.added[1].above and item.added[1].row or item.added[1].row + 1)
    item.changed = math.min(item.removed[1] or math.huge, first_add or math.huge)
    if item.changed == math.huge then
      item.changed = item.first
    end
    out[#out + 1] = item
  end
  return out
end

--- Draw `hunks` into `buf`; `hint` (a string or nil) as a virtual line above the first hunk.
---@param buf integer
---@param hunks remora.InlineHunk[]
---@param hint? string
function M.draw(buf, hunks, hint)
  api.nvim_buf_clear_namespace(buf, M.ns, 0, -1)
  local count = api.nvim_buf_line_count(buf)
  local function row_ok(row) return row >= 0 and row < count end
  for _, hunk in ipairs(hunks) do
    local del = hunk.skipped and "RemoraDiffSkipped" or "RemoraDiffInlineDelete"
    local add = hunk.skipped and "RemoraDiffSkipped" or "RemoraDiffInlineAdd"
    for _, row in ipairs(hunk.removed) do
      if row_ok(row) then
        api.nvim_buf_set_extmark(buf, M.ns, row, 0, {
          line_hl_group = del, sign_text = "-", sign_hl_group = del, priority = 120 })
      end
    end
    for _, block in ipairs(hunk.added) do
      local virt = {}
      for _, line in ipairs(block.lines) do
        virt[#virt + 1] = { { "+ ", add }, { line, add }, { string.rep(" ", 400), add } }
      end
      local row = math.min(math.max(block.row, 0), count - 1)
      api.nvim_buf_set_extmark(buf, M.ns, row, 0, { virt_lines = virt, virt_lines_above = block.above,
        priority = 120 })
    end
  end
  if hint and hunks[1] and row_ok(hunks[1].first) then
    api.nvim_buf_set_extmark(buf, M.ns, hunks[1].first, 0, {
      virt_lines = { { { hint, "RemoraDiffInlineHint" } } }, virt_lines_above = true, priority = 121 })
  end
end

---@param buf integer
function M.clear(buf)
  if api.nvim_buf_is_valid(buf) then
    api.nvim_buf_clear_namespace(buf, M.ns, 0, -1)
  end
end

--- Buffer-local keys while a diff is shown; the mappings they shadow are given back by `unmap`.
---@param buf integer
---@param keys table[] { {lhs, fn, desc}, ... }
---@return table saved
function M.map(buf, keys)
  local saved = {}
  for _, key in ipairs(keys) do
    local old = api.nvim_buf_call(buf, function() return vim.fn.maparg(key[1], "n", false, true) end)
    if old and old.buffer == 1 then
      saved[#saved + 1] = old
    end
    vim.keymap.set("n", key[1], key[2], { buffer = buf, nowait = true, silent = true, desc = key[3] })
  end
  return saved
end

---@param buf integer
---@param keys table[]
---@param saved table
function M.unmap(buf, keys, saved)
  if not api.nvim_buf_is_valid(buf) then
    return
  end
  for _, key in ipairs(keys) do
    pcall(vim.keymap.del, "n", key[1], { buffer = buf })
  end
  for _, old in ipairs(saved) do
    api.nvim_buf_call(buf, function() vim.fn.mapset("n", false, old) end)
  end
end

--- `:Remora diff`: old and new source side by side in a new tab page (Neovim's diff mode).
---@param name string
---@param old string[]
---@param new string[]
function M.full(name, old, new)
  vim.cmd("tabnew")
  local function scratch(label, lines)
    local buf = api.nvim_get_current_buf()
    vim.bo[buf].buftype = "nofile"
    vim.bo[buf].bufhidden = "wipe"
    vim.bo[buf].swapfile = false
    pcall(api.nvim_buf_set_name, buf, ("remora://%s/%s"):format(label, name))
    api.nvim_buf_set_lines(buf, 0, -1, false, lines)
    vim.bo[buf].modifiable = false
    vim.bo[buf].filetype = vim.filetype.match({ filename = name }) or "python"
    vim.keymap.set("n", "q", "<cmd>tabclose<CR>", { buffer = buf, nowait = true, desc = "Remora: close the diff" })
    vim.cmd("diffthis")
    vim.wo.wrap = false
  end
  scratch("current", old)
  vim.cmd("rightbelow vnew")
  scratch("proposed", new)
end

return M
