-- What :Remora chat|stop|accept|reject|next|prev|tools|ghost and the panel keys do. The target
-- is resolved when the command runs: the node under the cursor of the CURRENT buffer (waiting,
-- bounded, for its first line map), or the panel's node when the panel is the current window.
local agent = require("remora.agent")
local panel = require("remora.panel")
local linemap = require("remora.linemap")
local notify = require("remora.notify")

local M = {}

--- { root, id, file, node } of the node the command acts on; raises "(remora) ..." when there
--- is none (never a node of another buffer).
---@return table
function M.context()
  local win = vim.api.nvim_get_current_win()
  if require("remora.panel.view").is_panel_win(win) then
    local state = panel.state
    local node = state.node
    if not (node and node.id and state.root) then
      error("(remora) the panel shows no indexed node", 0)
    end
    return { root = state.root, id = node.id, file = panel.file(), node = node }
  end
  local buf = vim.api.nvim_get_current_buf()
  local map = linemap.wait(buf)
  local lnum = vim.api.nvim_win_get_cursor(0)[1]
  local node = linemap.node_at(buf, lnum)
  if not (node and node.id) then
    error("(remora) no indexed node under the cursor: put the cursor in a def or class of an indexed file"
      .. " (save a new one to anchor it)", 0)
  end
  -- CursorMoved only fires once typeahead is empty: make the panel follow this node now.
  linemap.track(true)
  return { root = map.root, id = node.id, file = map.path, node = node }
end

local function ensure_panel()
  if not panel.is_open() then
    panel.open()
  end
end

--- :Remora chat [--new] [message]: send it; without a message, open the chat box.
---@param message? string
---@param new? boolean start a new conversation (the engine forgets the node's history)
function M.chat(message, new)
  local ctx = M.context()
  ensure_panel()
  if message and message ~= "" then
    agent.chat(ctx.root, ctx.id, message, ctx.file, new)
    return
  end
  require("remora.input").open({
    title = ("Chat with %s %s%s"):format(ctx.node.type, ctx.node.qualname or ctx.node.name, new and " (new)" or ""),
    on_submit = function(text)
      if vim.trim(text) ~= "" then
        agent.chat(ctx.root, ctx.id, text, ctx.file, new)
      end
    end,
  })
end

--- :Remora stop: cancel the node's running turn(s).
function M.stop()
  local ctx = M.context()
  agent.stop(ctx.root, ctx.id, ctx.file)
end

local function shown_proposal(ctx)
  local ghost = require("remora.ghost").active
  if ghost and ghost.proposal then
    return ghost.proposal, ghost.root
  end
  return require("remora.panel.agent").current_proposal(ctx.id), ctx.root
end

--- Accept `proposal` of `root` (its kept hunks), then refresh the node's data.
---@param root string
---@param proposal table
function M.accept_proposal(root, proposal)
  agent.accept(root, proposal, function(result)
    if result and result.applied then
      require("remora.ghost").accepted(proposal)
    end
    agent.fetch(root, proposal.agent_id or proposal.node_id, proposal.file)
  end)
end

--- :Remora accept: accept the shown proposal (its kept hunks).
function M.accept()
  local ctx = M.context()
  local proposal, root = shown_proposal(ctx)
  if not proposal then
    notify.warn("no pending proposal for " .. ctx.id)
    return
  end
  M.accept_proposal(root, proposal)
end

--- Reject `proposal`; without `feedback`, ask for it (<Esc>: nothing rejected; empty: no re-run).
---@param root string
---@param proposal table
---@param feedback? string
function M.reject_proposal(root, proposal, feedback)
  local function send(text)
    if text == nil then
      return -- <Esc>: nothing rejected
    end
    agent.reject(root, proposal, text, function()
      agent.fetch(root, proposal.agent_id or proposal.node_id, proposal.file)
    end)
  end
  if feedback and feedback ~= "" then
    send(feedback)
  else
    vim.ui.input({ prompt = "Why reject? (the agent retries with it; empty: just reject) " }, send)
  end
end

--- Reject the shown proposal; without `feedback` on the command line, ask for it (empty: no
--- re-run). With an active ghost node, cancel it instead.
---@param feedback? string
function M.reject(feedback)
  local ghost = require("remora.ghost")
  if ghost.active then
    ghost.cancel()
    return
  end
  local ctx = M.context()
  local proposal = require("remora.panel.agent").current_proposal(ctx.id)
  if not proposal then
    notify.warn("no pending proposal for " .. ctx.id)
    return
  end
  M.reject_proposal(ctx.root, proposal, feedback)
end

--- :Remora diff: the full-width view of the proposal shown inline, else of the node's proposal.
function M.diff()
  local buf = vim.api.nvim_get_current_buf()
  local diff = require("remora.diff")
  if diff.shown[buf] then
    diff.full(buf)
    return
  end
  local ctx = M.context()
  local proposal = require("remora.panel.agent").current_proposal(ctx.id)
  if not proposal then
    error("(remora) no pending proposal for " .. ctx.id, 0)
  end
  diff.full(buf, proposal)
end

--- `s` in the panel: skip / keep the hunk under the cursor.
function M.toggle_hunk()
  local lnum = require("remora.panel.view").cursor_line()
  local target = lnum and panel.model.targets[lnum]
  if not (target and target.hunk) then
    notify.warn("put the cursor on a hunk of the proposal")
    return
  end
  agent.toggle_hunk(target.proposal, target.hunk)
  panel.render()
end

--- Pending proposals of `root` as { {file (absolute), line, mark}, ... } sorted by file and
--- line; lines come from the line map when the file is loaded (they move with edits).
local function pending_places(root)
  local places = {}
  for _, mark in ipairs(agent.pending[root] or {}) do
    local path = vim.fn.resolve(root .. "/" .. mark.file)
    local line = mark.line
    local buf = agent.buffer_of(root, mark.file)
    local map = buf and linemap.maps[buf]
    for _, node in ipairs(map and map.nodes or {}) do
      if node.id == mark.node_id then
        line = node.d
      end
    end
    places[#places + 1] = { file = path, line = line, mark = mark }
  end
  table.sort(places, function(a, b)
    if a.file ~= b.file then
      return a.file < b.file
    end
    return a.line < b.line
  end)
  return places
end

local function project_root()
  local buf = vim.api.nvim_get_current_buf()
  local root = require("remora.project").root(buf)
  if not root then
    error("(remora) not a Python buffer of a Remora project (no .remora/ above it)", 0)
  end
  return root
end

--- The next (1) / previous (-1) pending proposal of the project after the cursor, across files
--- (wraps); jumps there.
local function step(direction)
  local root = project_root()
  local function go()
    local places = pending_places(root)
    if #places == 0 then
      notify.warn("no pending proposal in this project")
      return
    end
    local here = vim.fn.resolve(vim.api.nvim_buf_get_name(0))
    local lnum = vim.api.nvim_win_get_cursor(0)[1]
    local function after(place)
      return place.file > here or (place.file == here and place.line > lnum)
    end
    local function before(place)
      return place.file < here or (place.file == here and place.line < lnum)
    end
    local target
    if direction > 0 then
      for _, place in ipairs(places) do
        if after(place) then
          target = place
          break
        end
      end
      target = target or places[1]
    else
      for index = #places, 1, -1 do
        if before(places[index]) then
          target = places[index]
          break
        end
      end
      target = target or places[#places]
    end
    if target.file ~= here then
      vim.cmd.edit(vim.fn.fnameescape(target.file))
    end
    vim.api.nvim_win_set_cursor(0, { math.min(target.line, vim.api.nvim_buf_line_count(0)), 0 })
    vim.cmd("normal! ^")
    linemap.track(true)
  end
  if agent.pending[root] then
    go()
  else
    agent.fetch_pending(root, function() notify.guard(go) end)
  end
end

--- :Remora proposals: every pending proposal of the project in the quickfix list.
function M.proposals()
  local root = project_root()
  agent.fetch_pending(root, function(_, err)
    if err then
      notify.error(err)
      return
    end
    local items = {}
    for _, place in ipairs(pending_places(root)) do
      items[#items + 1] = { filename = place.file, lnum = place.line, col = 1,
        text = ("%s %s (%s)"):format(place.mark.proposal, place.mark.node_id, place.mark.file) }
    end
    vim.fn.setqflist({}, " ", { title = "Remora proposals", items = items })
    if #items == 0 then
      notify.info("no pending proposal in this project")
    else
      vim.cmd("copen")
    end
  end)
end

--- :Remora next: the next pending proposal of the project.
function M.next()
  step(1)
end

--- :Remora prev: the previous pending proposal of the project.
function M.prev()
  step(-1)
end

--- :Remora tools [name]: the node's tool list or the form of `name`.
---@param name string
function M.tools(name)
  require("remora.tools").open(M.context(), name, function()
    if not panel.is_open() then
      panel.open()
    end
    panel.render()
  end)
end

--- :Remora ghost: a ghost node on the empty line under the cursor.
function M.ghost()
  require("remora.ghost").create()
end

--- The panel keys that act on the node (added to the panel's own <CR> / q / r).
---@return table[]
function M.panel_keys()
  local function call(name) return function() notify.guard(M[name]) end end
  return {
    { "c", call("chat"), "Remora: chat with the node" },
    { "S", call("stop"), "Remora: stop the node's running turn" },
    { "a", call("accept"), "Remora: accept the proposal (kept hunks)" },
    { "x", call("reject"), "Remora: reject the proposal with feedback" },
    { "s", call("toggle_hunk"), "Remora: skip / keep the hunk under the cursor" },
    { "t", call("tools"), "Remora: the node's tools" },
  }
end

return M
