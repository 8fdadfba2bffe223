-- The node's agent as the panel sees it: status, conversation, streamed text, pending
-- proposals (hunks kept or skipped), chat / stop / accept / reject. Talks to Python only with
-- notifications + callbacks (agent turns never block Neovim). Drawing is in remora.ui.*.
local rpc = require("remora.rpc")
local notify_mod = require("remora.notify")
local latest = require("remora.latest")
local signs = require("remora.ui.signs")

local M = {}

M.data = {} -- node id -> { state, history, proposals } from Python
M.stream = {} -- node id -> text streamed by the running turn
M.skip = {} -- proposal id -> { [hunk index] = true } hunks the user skipped
M.pending = {} -- root -> { { proposal, node_id, file, line }, ... }
M.tool_result = nil -- { node, tool, ok, text }
M.listeners = {} -- fn(node_id, refetch) when a node's agent data changed
M.agent_listeners = {} -- fn(payload) for every "agent" push
local panel_fetch = latest.new()

--- Tell the listeners that `id`'s data changed (`refetch`: ask Python again).
---@param id string
---@param refetch? boolean
local function changed(id, refetch)
  for _, fn in ipairs(M.listeners) do
    fn(id, refetch)
  end
end
M.changed = changed

---@param fn fun(id: string, refetch: boolean?)
function M.on_change(fn)
  table.insert(M.listeners, fn)
end

--- `fn(payload)` for every agent push (ghost nodes follow their correlation with this).
---@param fn fun(payload: table)
function M.on_agent_event(fn)
  table.insert(M.agent_listeners, fn)
end

local function notify(text, level)
  notify_mod.notify(text, level)
end
M.notify = notify

--- The loaded buffer showing `root/file`, or nil.
function M.buffer_of(root, file)
  local path = vim.fn.resolve(root .. "/" .. file)
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(buf) and vim.fn.resolve(vim.api.nvim_buf_get_name(buf)) == path then
      return buf
    end
  end
  return nil
end

--- The modified loaded buffers of `root` as { [relative path] = text }: agents read these
--- instead of the files on disk (the engine's live buffers), so they see what the user sees.
---@param root string
---@return table<string, string>
function M.live_buffers(root)
  local out = {}
  local prefix = vim.fn.resolve(root) .. "/"
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(buf) and vim.bo[buf].modified and vim.bo[buf].buftype == "" then
      local name = vim.fn.resolve(vim.api.nvim_buf_get_name(buf))
      if name:sub(1, #prefix) == prefix then
        local text = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n")
        out[name:sub(#prefix + 1)] = vim.bo[buf].eol and (text .. "\n") or text
      end
    end
  end
  return vim.tbl_isempty(out) and vim.empty_dict() or out
end

local function lines_of(buf)
  return buf and vim.api.nvim_buf_get_lines(buf, 0, -1, false) or nil
end

--- Ask Python for the panel data of `id` ("latest request wins": a fast-moving cursor must not
--- queue work on the agent thread).
---@param root string
---@param id string
---@param file? string relative path of the node's file
function M.fetch(root, id, file)
  if not (root and id) then
    return
  end
  panel_fetch:run(function(done)
    local buf = file and M.buffer_of(root, file)
    rpc.request("agent_panel", { root = root, id = id, lines = lines_of(buf) }, function(result, err)
      if err then
        M.data[id] = { state = { status = "error", error = err }, history = {}, proposals = {} }
      else
        result.root, result.file = root, file
        M.data[id] = result
        if result.state.status ~= "running" then
          M.stream[id] = nil
        end
      end
      changed(id)
      done()
    end)
  end)
end

--- Store panel data fetched elsewhere (ghost nodes) and tell the listeners.
---@param id string
---@param data table
function M.set_data(id, data)
  M.data[id] = data
  changed(id)
end

--- Def line of each pending mark in `buf` (from its line map when the node is there).
local function def_lines(buf, marks)
  local map = require("remora.linemap").maps[buf]
  local out = {}
  for _, mark in ipairs(marks) do
    local line = mark.line
    for _, node in ipairs(map and map.nodes or {}) do
      if node.id == mark.node_id then
        line = node.d
      end
    end
    out[#out + 1] = line
  end
  return out
end

--- Draw the pending `marks` of `root` in every loaded buffer of that project.
---@param root string
---@param marks table[]
function M.draw_signs(root, marks)
  local prefix = vim.fn.resolve(root) .. "/"
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(buf) then
      local name = vim.fn.resolve(vim.api.nvim_buf_get_name(buf))
      if name:sub(1, #prefix) == prefix then
        local rel = name:sub(#prefix + 1)
        local mine = vim.tbl_filter(function(mark) return mark.file == rel end, marks or {})
        signs.draw(buf, def_lines(buf, mine))
      end
    end
  end
end

--- Pending proposals of `root` (signs, ]r / [r).
M.seen = {} -- root -> { [proposal id] = true } proposals already known (cross-file notices)

--- Tell about new proposals in files other than the current buffer's (a callee's proposal).
local function announce(root, marks)
  local seen = M.seen[root]
  local first = seen == nil
  seen = seen or {}
  M.seen[root] = seen
  local current = vim.fn.resolve(vim.api.nvim_buf_get_name(0))
  for _, mark in ipairs(marks) do
    if not seen[mark.proposal] then
      seen[mark.proposal] = true
      if not first and vim.fn.resolve(root .. "/" .. mark.file) ~= current then
        notify(("%s proposed %s in %s:%d (:Remora proposals lists them all)"):format(mark.node_id, mark.proposal,
          mark.file, mark.line))
      end
    end
  end
end

--- Every pending proposal of `root` (signs, :Remora proposals, next / prev across files).
---@param root string
---@param callback? fun(result: table[]?, err: string?)
function M.fetch_pending(root, callback)
  rpc.request("agent_pending", { root = root }, function(result, err)
    if not err then
      M.pending[root] = result
      M.draw_signs(root, result)
      announce(root, result)
    end
    if callback then
      callback(result, err)
    end
  end)
end

--- A buffer got its line map: draw its pending signs (asking Python once per project).
M.pending_asked = {}
---@param buf integer
---@param map remora.LineMap
function M.on_map(buf, map)
  local marks = M.pending[map.root]
  if marks then
    M.draw_signs(map.root, marks)
  elseif not M.pending_asked[map.root] then
    M.pending_asked[map.root] = true
    M.fetch_pending(map.root)
  end
end

-- -- pushes from Python -------------------------------------------------------------------

local PROPOSAL_TYPES = { RewriteProposal = true, RewriteApplied = true, RewriteRejected = true,
  AgentComplete = true, AgentError = true }

--- rpc push "agent": { root, type, node, correlation_id, seq }.
function M.on_agent(payload)
  if PROPOSAL_TYPES[payload.type] then
    M.fetch_pending(payload.root)
  end
  for _, fn in ipairs(M.agent_listeners) do
    fn(payload)
  end
  changed(payload.node, true)
end

--- rpc push "stream": { root, node, trigger, text }.
function M.on_stream(payload)
  M.stream[payload.node] = (M.stream[payload.node] or "") .. payload.text
  changed(payload.node)
end

-- -- actions ----------------------------------------------------------------------------

--- Send `message` to `id`'s agent; `new` starts a new conversation (the engine forgets the history).
---@param root string
---@param id string
---@param message string
---@param file? string
---@param new? boolean
function M.chat(root, id, message, file, new)
  M.stream[id] = nil
  local params = { root = root, id = id, message = message, new_conversation = new or nil,
    buffers = M.live_buffers(root) }
  rpc.request("agent_chat", params, function(_, err)
    if err then
      notify(err, vim.log.levels.ERROR)
    end
    M.fetch(root, id, file)
  end)
end

--- Cancel `id`'s queued and running turns.
---@param root string
---@param id string
---@param file string
function M.stop(root, id, file)
  rpc.request("agent_stop", { root = root, id = id }, function(result, err)
    if err then
      notify(err, vim.log.levels.ERROR)
    elseif #result.cancelled == 0 then
      notify("nothing is running for " .. id, vim.log.levels.WARN)
    else
      notify("stopped " .. table.concat(result.cancelled, ", "))
    end
    M.fetch(root, id, file)
  end)
end

--- Indices (0-based, as Python counts) of the hunks kept; nil when all are.
function M.kept_hunks(proposal)
  local skip = M.skip[proposal.id] or {}
  local kept, all = {}, true
  for _, hunk in ipairs(proposal.hunks) do
    if skip[hunk.index] then
      all = false
    else
      kept[#kept + 1] = hunk.index
    end
  end
  return (not all) and kept or nil, #kept
end

--- Skip / keep hunk `index` (0-based) of proposal `proposal_id`.
---@param proposal_id string
---@param index integer
function M.toggle_hunk(proposal_id, index)
  M.skip[proposal_id] = M.skip[proposal_id] or {}
  M.skip[proposal_id][index] = not M.skip[proposal_id][index] or nil
end

--- Accept `proposal` (kept hunks only): into its loaded buffer (one undo step, left modified),
--- else into the file on disk. `done(result)` after.
function M.accept(root, proposal, done)
  if proposal.stale and proposal.stale ~= vim.NIL then
    notify("proposal " .. proposal.id .. " is stale and cannot be applied: " .. proposal.stale,
      vim.log.levels.WARN)
    return
  end
  local kept, count = M.kept_hunks(proposal)
  if count == 0 then
    notify("every hunk is skipped: reject the proposal instead", vim.log.levels.WARN)
    return
  end
  local buf = M.buffer_of(root, proposal.file)
  local tick = buf and vim.api.nvim_buf_get_changedtick(buf)
  local params = { root = root, proposal = proposal.id, lines = lines_of(buf), hunks = kept }
  rpc.request("agent_accept", params, function(result, err)
    if err then
      notify(err, vim.log.levels.ERROR)
    elseif not result.applied then
      notify(result.message, vim.log.levels.WARN)
    else
      if buf and vim.api.nvim_buf_is_valid(buf) then
        if vim.api.nvim_buf_get_changedtick(buf) ~= tick then
          notify(("%s changed while the proposal was applied: check the result"):format(proposal.file),
            vim.log.levels.WARN)
        end
        require("remora.ui.buffer").replace(buf, result.start, result.old_end, result.replacement)
        result.buf = buf
        require("remora.linemap").refresh(buf)
      end
      M.skip[proposal.id] = nil
      notify(result.message)
    end
    M.settled(root, done, result, err)
  end)
end

--- After accept / reject: the project's pending proposals again, then `done(result, err)`.
---@param root string
---@param done? function
function M.settled(root, done, result, err)
  M.fetch_pending(root)
  if done then
    done(result, err)
  end
end

--- Reject `proposal`; with feedback the agent runs again with it.
function M.reject(root, proposal, feedback, done)
  rpc.request("agent_reject", { root = root, proposal = proposal.id, feedback = feedback or "",
    buffers = M.live_buffers(root) },
    function(result, err)
      if err then
        notify(err, vim.log.levels.ERROR)
      else
        M.skip[proposal.id] = nil
        notify(result.correlation_id ~= vim.NIL and ("rejected; the agent retries with your feedback")
          or "rejected")
      end
      M.settled(root, done, result, err)
    end)
end

return M
