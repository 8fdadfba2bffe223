-- Ghost nodes: a placeholder line (`# ghost_xxxxxxxx`, virtual text: the buffer and its undo
-- history are untouched until a proposal is accepted) whose instruction goes to the agent that
-- can create the node there. Placement (container, agent, insert_after, indent) is decided only
-- by the engine (`agent_ghost_plan` / `agent_ghost`, remora_core/engine/ghost.py).
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

--- Ask the engine where a ghost on `lnum` of `buf` goes (`agent_ghost_plan`, from the buffer's
--- text); `callback(plan, err)` with plan = { container, target, insert_after, indent }. Lua never
--- decides placement.
local function engine_plan(root, buf, lnum, callback)
  rpc.request("agent_ghost_plan", {
    root = root, file = vim.api.nvim_buf_get_name(buf), line = lnum,
    lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false),
  }, callback)
end

local function nilify(value)
  if value == vim.NIL then
    return nil
  end
  return value
end

local function ask(ghost)
  local id, buf = ghost.id, ghost.buf
  vim.ui.input({ prompt = ("New node at %s: "):format(id) }, function(instruction)
    if M.active ~= ghost then
      return
    end
    if not instruction or vim.trim(instruction) == "" then
      M.cancel()
      return
    end
    view.status(buf, "asking " .. ghost.target .. "…")
    -- The engine places the node again from the buffer as it is now and binds the agent's turn
    -- to that place (its propose_new_node inserts there, whatever insert_after the model gives).
    rpc.request("agent_ghost", {
      root = ghost.root, file = vim.api.nvim_buf_get_name(buf), line = ghost.lnum,
      lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false), ghost = id, instruction = instruction,
      buffers = agent.live_buffers(ghost.root),
    }, function(result, err)
      if M.active ~= ghost then
        return
      end
      if err then
        notify.error(err)
        M.cancel()
        return
      end
      ghost.correlation_id = result.correlation_id
      ghost.container, ghost.target = result.container, result.target
      ghost.insert_after = nilify(result.insert_after)
    end)
  end)
end

--- :Remora ghost: place a ghost on the empty line under the cursor and ask for its instruction.
function M.create()
  local buf = vim.api.nvim_get_current_buf()
  local lnum = vim.api.nvim_win_get_cursor(0)[1]
  local text = vim.api.nvim_buf_get_lines(buf, lnum - 1, lnum, false)[1] or ""
  if vim.trim(text) ~= "" then
    error("(remora) :Remora ghost needs the cursor on an empty line", 0)
  end
  local map = require("remora.linemap").wait(buf)
  if M.active then
    M.cancel()
  end
  local tick = vim.api.nvim_buf_get_changedtick(buf)
  engine_plan(map.root, buf, lnum, function(plan, err)
    if err then
      notify.error(err)
      return
    end
    if not vim.api.nvim_buf_is_valid(buf) or vim.api.nvim_buf_get_changedtick(buf) ~= tick then
      notify.warn("the buffer changed before the ghost was placed: run :Remora ghost again")
      return
    end
    if M.active then
      M.cancel()
    end
    local ghost = {
      buf = buf, root = map.root, id = M.new_id(), lnum = lnum, container = plan.container,
      target = plan.target, insert_after = nilify(plan.insert_after),
    }
    M.active = ghost
    view.show(buf, lnum - 1, (plan.indent or "") .. "# " .. ghost.id, "describe the new node…")
    ask(ghost)
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
