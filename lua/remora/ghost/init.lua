-- Ghost nodes: a placeholder line (`# ghost_xxxxxxxx`, virtual text: the buffer and its undo
-- history are untouched until a proposal is accepted) whose instruction goes to the agent that
-- can create the node there: the file's agent at module level, inside a class the agent of the
-- method before the placeholder (a method's `propose_new_node` inserts into its class).
local rpc = require("remora.rpc")
local notify = require("remora.notify")
local agent = require("remora.agent")
local view = require("remora.ghost.view")

local M = {}

M.active = nil -- { buf, root, id, lnum, container, target, insert_after, correlation_id, proposal }

local ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"

--- A fresh ghost id (`ghost_` + 8 characters).
function M.new_id()
  local out = {}
  for index = 1, 8 do
    local at = math.random(1, #ALPHABET)
    out[index] = ALPHABET:sub(at, at)
  end
  return "ghost_" .. table.concat(out)
end

--- Where a ghost on `lnum` goes, from a line map: { container, target, insert_after, indent }.
function M.plan(map, lnum)
  local nodes = map.nodes
  local container_index = 1
  for index, node in ipairs(nodes) do
    if node.type == "class" and node.s <= lnum and lnum <= node.e then
      container_index = index -- nodes are in document order: the last match is the innermost
    end
  end
  local container = nodes[container_index]
  local previous, first
  for index, node in ipairs(nodes) do
    if node.parent == container_index and index ~= container_index then
      first = first or node
      if node.e < lnum and (not previous or node.e > previous.e) then
        previous = node
      end
    end
  end
  local target = container.id
  if container.type == "class" then
    target = (previous and previous.id) or (first and first.id) or container.id
  end
  return {
    container = container,
    target = target,
    insert_after = previous and previous.id or nil,
  }
end

local function indent_for(buf, plan)
  local container = plan.container
  if container.type ~= "class" then
    return ""
  end
  local line = vim.api.nvim_buf_get_lines(buf, container.d - 1, container.d, false)[1] or ""
  return line:match("^%s*") .. "    "
end

--- :Remora ghost: place a ghost on the empty line under the cursor and ask for its instruction.
function M.create()
  local ui = view
  local buf = vim.api.nvim_get_current_buf()
  local lnum = vim.api.nvim_win_get_cursor(0)[1]
  local text = vim.api.nvim_buf_get_lines(buf, lnum - 1, lnum, false)[1] or ""
  if vim.trim(text) ~= "" then
    error("(remora) :Remora ghost needs the cursor on an empty line", 0)
  end
  local map = require("remora.linemap").wait(buf)
  local plan = M.plan(map, lnum)
  if not (plan.container.id and plan.target) then
    error("(remora) the enclosing node has no id yet: save the file so it gets anchored", 0)
  end
  if M.active then
    M.cancel()
  end
  local id = M.new_id()
  M.active = {
    buf = buf, root = map.root, id = id, lnum = lnum, container = plan.container.id,
    target = plan.target, insert_after = plan.insert_after,
  }
  ui.show(buf, lnum - 1, indent_for(buf, plan) .. "# " .. id, "describe the new node…")
  vim.ui.input({ prompt = ("New node at %s: "):format(id) }, function(instruction)
    local ghost = M.active
    if not (ghost and ghost.id == id) then
      return
    end
    if not instruction or vim.trim(instruction) == "" then
      M.cancel()
      return
    end
    ui.status(buf, "asking " .. ghost.target .. "…")
    rpc.request("agent_ghost", {
      root = ghost.root, target = ghost.target, container = ghost.container,
      insert_after = ghost.insert_after, ghost = id, instruction = instruction,
      buffers = agent.live_buffers(ghost.root),
    }, function(result, err)
      if not (M.active and M.active.id == id) then
        return
      end
      if err then
        notify.error(err)
        M.cancel()
        return
      end
      M.active.correlation_id = result.correlation_id
    end)
  end)
end

local function load_proposal(ghost, give_up)
  rpc.request("agent_panel", {
    root = ghost.root, id = ghost.container,
    lines = vim.api.nvim_buf_is_valid(ghost.buf) and vim.api.nvim_buf_get_lines(ghost.buf, 0, -1, false) or nil,
  }, function(result, err)
    if M.active ~= ghost or err then
      return
    end
    for _, proposal in ipairs(result.proposals) do
      if proposal.correlation_id == ghost.correlation_id then
        ghost.proposal = proposal
        view.status(ghost.buf, "proposal ready: :Remora accept / :Remora reject")
        agent.set_data(ghost.container, result)
        return
      end
    end
    if give_up then
      notify.warn("the agent answered without proposing the new node; the ghost is removed")
      M.cancel()
    end
  end)
end

--- rpc push "agent" (through remora.agent).
function M.on_agent(payload)
  local ghost = M.active
  if not (ghost and ghost.correlation_id and payload.correlation_id == ghost.correlation_id) then
    return
  end
  if payload.type == "RewriteProposal" then
    load_proposal(ghost, false)
  elseif (payload.type == "AgentComplete" or payload.type == "AgentError") and not ghost.proposal
    and payload.node == ghost.target then
    load_proposal(ghost, true)
  end
end

--- A proposal was accepted: when it was the ghost's, the ghost is done (the new node is real).
function M.accepted(proposal)
  local ghost = M.active
  if ghost and ghost.proposal and ghost.proposal.id == proposal.id then
    M.active = nil
    view.clear(ghost.buf)
  end
end

--- Remove the ghost without a trace; stop its agent turn (and its pending proposal).
function M.cancel()
  local ghost = M.active
  if not ghost then
    return
  end
  M.active = nil
  view.clear(ghost.buf)
  if ghost.correlation_id then
    rpc.request("agent_cancel", { root = ghost.root, correlation_id = ghost.correlation_id }, function()
      agent.fetch_pending(ghost.root)
      agent.changed(ghost.container, true)
    end)
  end
end

return M
