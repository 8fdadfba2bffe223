-- Inline diff (|remora-inline-diff|): the pending proposal of a node drawn in its code buffer,
-- with buffer-local accept / reject / skip / next / prev / full-view keys that exist only while
-- it is shown. `:Remora diff` opens the full-width view.
local config = require("remora.config")
local agent = require("remora.agent")
local linemap = require("remora.linemap")
local notify = require("remora.notify")
local view = require("remora.diff.view")

local M = {}

---@class remora.ShownDiff
---@field root string
---@field proposal table
---@field start integer 1-based first line of the node in the buffer
---@field hunks remora.InlineHunk[]
---@field keys table[]
---@field saved table

M.shown = {} ---@type table<integer, remora.ShownDiff>
-- What accept / reject do, handed in by the wiring (remora.actions): fn(root, proposal).
M.handlers = { accept = nil, reject = nil }

local function stale(proposal)
  return proposal.stale ~= nil and proposal.stale ~= vim.NIL
end

local function node_start(buf, node_id)
  local map = linemap.maps[buf]
  for _, node in ipairs(map and map.nodes or {}) do
    if node.id == node_id then
      return node.s, node.e
    end
  end
  return nil
end

--- The key hint drawn above the diff (only the keys that are mapped).
---@param proposal table
---@return string
function M.hint(proposal)
  local keys = config.options.diff.keys
  local parts = {}
  for _, item in ipairs({ { "accept", "accept" }, { "reject", "reject" }, { "skip", "skip hunk" },
    { "next", "next hunk" }, { "prev", "prev hunk" }, { "full", "full diff" } }) do
    if keys[item[1]] then
      parts[#parts + 1] = keys[item[1]] .. " " .. item[2]
    end
  end
  return ("Remora %s: %s"):format(proposal.id, table.concat(parts, " · "))
end

--- Remove the inline diff of `buf` and its keys.
---@param buf integer
function M.clear(buf)
  local shown = M.shown[buf]
  if not shown then
    return
  end
  M.shown[buf] = nil
  view.clear(buf)
  view.unmap(buf, shown.keys, shown.saved)
end

local function hunk_at(shown, row)
  for _, hunk in ipairs(shown.hunks) do
    if hunk.first <= row and row <= hunk.last then
      return hunk
    end
  end
  return nil
end

local function move(buf, direction)
  local shown = M.shown[buf]
  if not shown then
    return
  end
  local row = vim.api.nvim_win_get_cursor(0)[1] - 1
  local rows = vim.tbl_map(function(hunk) return hunk.changed end, shown.hunks)
  local target = direction > 0 and rows[1] or rows[#rows]
  if direction > 0 then
    for _, first in ipairs(rows) do
      if first > row then
        target = first
        break
      end
    end
  else
    for index = #rows, 1, -1 do
      if rows[index] < row then
        target = rows[index]
        break
      end
    end
  end
  vim.api.nvim_win_set_cursor(0, { target + 1, 0 })
end

local function keys_for(buf)
  local keys = config.options.diff.keys
  local function current()
    return M.shown[buf]
  end
  local out = {}
  local function add(name, fn, desc)
    if keys[name] then
      out[#out + 1] = { keys[name], function() notify.guard(fn) end, "Remora inline diff: " .. desc }
    end
  end
  for _, name in ipairs({ "accept", "reject" }) do
    add(name, function()
      local shown = current()
      if shown then
        M.handlers[name](shown.root, shown.proposal)
      end
    end, name .. " the proposal")
  end
  add("skip", function()
    local shown = current()
    local hunk = shown and hunk_at(shown, vim.api.nvim_win_get_cursor(0)[1] - 1)
    if not hunk then
      notify.warn("put the cursor on a hunk of the proposal")
      return
    end
    agent.toggle_hunk(shown.proposal.id, hunk.index)
    M.show(buf, shown.root, shown.proposal)
    agent.changed(shown.proposal.node_id)
  end, "skip / keep the hunk under the cursor")
  add("next", function() move(buf, 1) end, "next hunk")
  add("prev", function() move(buf, -1) end, "previous hunk")
  add("full", function() M.full(buf) end, "full-width diff view")
  return out
end

--- Draw `proposal` in `buf` (replacing what was shown); false when its node is not in the buffer.
---@param buf integer
---@param root string
---@param proposal table
---@return boolean
function M.show(buf, root, proposal)
  local start = node_start(buf, proposal.node_id)
  if not start then
    return false
  end
  local shown = M.shown[buf]
  if shown and shown.proposal.id ~= proposal.id then
    M.clear(buf)
    shown = nil
  end
  local hunks = view.layout(proposal, start, agent.skip[proposal.id] or {})
  view.draw(buf, hunks, config.options.diff.hint and M.hint(proposal) or nil)
  if shown then
    shown.hunks, shown.start, shown.proposal = hunks, start, proposal
  else
    local keys = keys_for(buf)
    M.shown[buf] = { root = root, proposal = proposal, start = start, hunks = hunks, keys = keys,
      saved = view.map(buf, keys) }
  end
  return true
end

--- Agent data of `id` changed: show its first applicable proposal inline, or clear it.
---@param id string
function M.on_agent(id)
  local data = agent.data[id]
  local proposals = data and data.proposals or {}
  local pick = nil
  for _, proposal in ipairs(proposals) do
    if proposal.kind ~= "new_node" and not stale(proposal) then
      pick = proposal
      break
    end
  end
  for buf, shown in pairs(M.shown) do
    local same_node = shown.proposal.node_id == id or shown.proposal.agent_id == id
    if same_node and not (pick and pick.id == shown.proposal.id) then
      M.clear(buf)
    end
  end
  if not (pick and config.options.diff.inline and data.root) then
    return
  end
  local buf = agent.buffer_of(data.root, pick.file)
  if buf then
    M.show(buf, data.root, pick)
  end
end

--- A new line map of `buf`: the node may have moved; ask again whether the proposal still applies.
---@param buf integer
function M.on_map(buf)
  local shown = M.shown[buf]
  if shown then
    M.show(buf, shown.root, shown.proposal)
    agent.fetch(shown.root, shown.proposal.agent_id or shown.proposal.node_id, shown.proposal.file)
  end
end

--- `old` lines with the kept hunks of `proposal` applied (by position).
---@param old string[]
---@param proposal table
---@param skip table<integer, boolean>
---@return string[]
function M.apply(old, proposal, skip)
  local out, pos = {}, 1
  for _, hunk in ipairs(proposal.hunks) do
    local first = tonumber(hunk.header:match("^@@ %-(%d+)")) or 1
    while pos < first and pos <= #old do
      out[#out + 1] = old[pos]
      pos = pos + 1
    end
    local skipped = skip[hunk.index]
    for _, line in ipairs(hunk.lines) do
      local sign, body = line:sub(1, 1), line:sub(2)
      if sign == "+" then
        if not skipped then
          out[#out + 1] = body
        end
      else
        if sign == " " or skipped then
          out[#out + 1] = old[pos]
        end
        pos = pos + 1
      end
    end
  end
  while pos <= #old do
    out[#out + 1] = old[pos]
    pos = pos + 1
  end
  return out
end

--- The full-width view of the proposal shown in `buf`, or of `proposal` for a node of `buf`.
---@param buf integer
---@param proposal? table
function M.full(buf, proposal)
  local shown = M.shown[buf]
  proposal = proposal or (shown and shown.proposal)
  if not proposal then
    error("(remora) no pending proposal shown in this buffer", 0)
  end
  local s, e = node_start(buf, proposal.node_id)
  if not s then
    error(("(remora) node %s of proposal %s is not in this buffer"):format(proposal.node_id, proposal.id), 0)
  end
  local old = vim.api.nvim_buf_get_lines(buf, s - 1, e, false)
  local strip = function(line) return ((line:gsub("%s+# rm_[a-z0-9]+%s*$", "")):gsub("%s+// rm_[a-z0-9]+%s*$", "")) end
  old = vim.tbl_map(strip, old)
  view.full(proposal.id, old, M.apply(old, proposal, agent.skip[proposal.id] or {}))
end

return M
