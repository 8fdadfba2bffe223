-- The panel's agent section: conversation, streamed text, pending proposal diffs with per-hunk
-- choices, the last tool result; and the panel status (running with elapsed time / waiting for
-- approval / error). Lines only: remora.ui.panel draws them.
local agent = require("remora.agent")
local config = require("remora.config")
local text = require("remora.text")

local M = {}

local ROLE = {
  you = { "you: ", "RemoraChatHuman" },
  agent = { "agent: ", "RemoraChatAgent" },
  error = { "error: ", "RemoraPanelError" },
  proposal = { "· ", "RemoraPanelMuted" },
  ghost = { "ghost: ", "RemoraChatHuman" },
  caller = { "caller: ", "RemoraChatHuman" },
}

M.wrap = text.wrap

local function say(add, prefix, said, group, width)
  local lines = M.wrap(said, math.max(width - #prefix - 3, 10))
  for index, line in ipairs(lines) do
    add("   " .. (index == 1 and prefix or string.rep(" ", vim.fn.strdisplaywidth(prefix))) .. line, group)
  end
end

--- How a history item is shown: the internal request a ghost node sends is shown as what the
--- user typed ("ghost: ..."), not as the prompt Remora wrote for the agent.
---@param item table { role, text }
---@return table role { prefix, group }
---@return string text
function M.shown_item(item)
  local text = tostring(item.text or "")
  if item.role == "you" and text:match("^The human placed a placeholder for a new node") then
    return ROLE.ghost, text:match("What the new node must do: (.*)$") or text
  end
  return ROLE[item.role] or ROLE.agent, text
end

--- The panel status of a node's agent data: kind, text.
---@param data any
function M.status_of(data)
  local state = data and data.state
  if not state then
    return "idle", nil
  end
  if state.status == "running" then
    local elapsed = math.max(0, os.time() - math.floor(state.since or os.time()))
    return "running", ("running %ds"):format(elapsed)
  elseif state.status == "waiting" then
    return "waiting", "waiting for approval"
  elseif state.status == "error" then
    local first = vim.split(tostring(state.error or ""), "\n", { plain = true })[1]
    return "error", "error: " .. first:gsub("^%(remora%) ", "")
  end
  return "idle", nil
end

local function rule(add)
  add(string.rep("─", math.max(require("remora.panel.view").width() - 1, 1)), "RemoraPanelRule")
end

local function proposal_lines(add, proposal)
  rule(add)
  local stale = proposal.stale ~= nil and proposal.stale ~= vim.NIL
  local what = proposal.kind == "new_node" and "new node" or "rewrite"
  add((" Proposal %s (%s)%s"):format(proposal.id, what, stale and " STALE" or ""),
    stale and "RemoraPanelError" or "RemoraPending")
  if stale then
    add(" stale: " .. tostring(proposal.stale):gsub("\n", " "), "RemoraPanelError")
    add(" cannot be applied: x rejects it (ask again)", "RemoraPanelMuted")
  end
  local skip = agent.skip[proposal.id] or {}
  local count = #proposal.hunks
  for _, hunk in ipairs(proposal.hunks) do
    local target = { proposal = proposal.id, hunk = hunk.index }
    local skipped = skip[hunk.index]
    add((" [%s] hunk %d/%d %s"):format(skipped and " " or "x", hunk.index + 1, count, hunk.header),
      skipped and "RemoraDiffSkipped" or "RemoraDiffHunk", target)
    for _, line in ipairs(hunk.lines) do
      local sign = line:sub(1, 1)
      local group = skipped and "RemoraDiffSkipped"
        or (sign == "+" and "RemoraDiffAdd") or (sign == "-" and "RemoraDiffDelete") or nil
      add(" " .. line, group, target)
    end
  end
  if not stale then
    add(" a accept  s skip/keep hunk  x reject", "RemoraPanelHint")
  end
end

--- The panel section (see remora.panel.add_section).
function M.section(state, add)
  local node = state.node
  if not (node and node.id) then
    return
  end
  local width = require("remora.panel.view").width()
  local data = agent.data[node.id]
  rule(add)
  add(" Chat", "RemoraPanelHeader")
  if not data then
    add("   loading…", "RemoraPanelMuted")
  elseif #data.history == 0 and not agent.stream[node.id] then
    add("   (none yet: c to chat)", "RemoraPanelMuted")
  else
    for _, item in ipairs(data.history) do
      local role, said = M.shown_item(item)
      say(add, role[1], said, role[2], width)
    end
  end
  local streamed = agent.stream[node.id]
  if streamed and data and data.state.status == "running" then
    say(add, "agent ▌ ", streamed, "RemoraStream", width)
  end
  for _, proposal in ipairs(data and data.proposals or {}) do
    proposal_lines(add, proposal)
  end
  local result = agent.tool_result
  if result and result.node == node.id then
    rule(add)
    add((" Tool %s: %s"):format(result.tool, result.ok and "ok" or "error"),
      result.ok and "RemoraPanelHeader" or "RemoraPanelError")
    for _, line in ipairs(M.wrap(result.text, width - 4)) do
      add("   " .. line)
    end
  end
end

--- The proposal shown for the node in the panel (the first pending one), or nil.
function M.current_proposal(id)
  local data = id and agent.data[id]
  return data and data.proposals[1] or nil
end

return M
