-- The side panel's logic: which node it shows, what it says, where <CR> jumps. Drawing is in
-- remora.ui.panel. Other features add sections with `add_section` (the chat and proposal
-- seams): a section is fn(state, add) called between the status and the event log.
local config = require("remora.config")
local rpc = require("remora.rpc")
local latest = require("remora.latest")
local text = require("remora.text")
local agent = require("remora.agent")
local agent_section = require("remora.panel.agent")
local state_section = require("remora.panel.state")
local notify = require("remora.notify")
local ui = require("remora.panel.view")

local M = {}

M.state = {
  node = nil, -- line-map entry { s, d, e, id, type, name, qualname }
  root = nil,
  path = nil, -- absolute path of the node's buffer
  info = nil, -- node_info from Python for node.id
  info_id = nil,
  error = nil,
  events = {}, -- summaries, oldest first
  node_state = nil, -- the node_state reply for node_state_id (the hub's state of the node)
  node_state_id = nil,
  node_state_error = nil,
  status = "idle", -- idle | running | waiting | error (the agent runtime will set it)
}
M.model = { lines = {}, hls = {}, targets = {} }
M.sections = {}
M.code_win = nil -- the code window the panel was opened from / last used

ui.keys = {
  { "<CR>", function() M.jump_at_cursor() end, "Remora: jump to the node under the cursor" },
  { "q", function() M.close() end, "Remora: close the panel" },
  { "r", function() M.refresh() end, "Remora: refresh the panel" },
  -- The panel is read-only (u would be E21): undo in the code window, e.g. the last accept.
  { "u", function() M.undo_in_code() end, "Remora: undo in the code window" },
}

--- Add (or replace) a panel section: `fn(state, add)` draws lines between the status and the event log.
---@param name string
---@param fn function
function M.add_section(name, fn)
  for index, section in ipairs(M.sections) do
    if section.name == name then
      M.sections[index] = { name = name, fn = fn }
      return
    end
  end
  table.insert(M.sections, { name = name, fn = fn })
end

local function short_path(state)
  if state.info then
    return state.info.file
  end
  if state.path and state.root then
    local prefix = state.root .. "/"
    if state.path:sub(1, #prefix) == prefix then
      return state.path:sub(#prefix + 1)
    end
  end
  return state.path or "?"
end

--- Build the render model (lines, highlights, jump targets) from the state.
---@param state table
---@return remora.Model
function M.build(state)
  local b = text.builder(ui.width())
  local add = b:adder()
  local function rule()
    b:rule()
  end
  local function ref_line(prefix, ref)
    local line = ("%s%s  %s %s"):format(prefix, ref.id, ref.type, ref.qualname or ref.name)
    add(line, "RemoraPanelLink", { root = state.root, file = ref.file, line = ref.line, id = ref.id })
    b:hl(#prefix, #prefix + #ref.id, "RemoraPanelId")
  end

  local node = state.node
  if not node then
    add(" Remora", "RemoraPanelTitle")
    add(" No node under the cursor.", "RemoraPanelMuted")
    add(" Open a Python file of a project", "RemoraPanelMuted")
    add(" (a directory holding .remora/).", "RemoraPanelMuted")
  else
    add(" " .. (node.id or "(new node: save to anchor it)"), node.id and "RemoraPanelId" or "RemoraPanelMuted")
    add((" %s %s"):format(node.type, node.qualname or node.name), "RemoraPanelTitle")
    add((" %s:%d-%d"):format(short_path(state), node.s, node.e), "RemoraPanelMuted")
    rule()
    local info = state.info
    if node.id and info and info.id == node.id then
      add(" Parent", "RemoraPanelHeader")
      if info.parent and info.parent ~= vim.NIL then
        ref_line("   ", info.parent)
      else
        add("   (none)", "RemoraPanelMuted")
      end
      add((" Callers (%d)"):format(#info.callers), "RemoraPanelHeader")
      for _, ref in ipairs(info.callers) do
        ref_line("   ", ref)
      end
      add((" Callees (%d)"):format(#info.callees), "RemoraPanelHeader")
      for _, ref in ipairs(info.callees) do
        ref_line("   ", ref)
      end
      rule()
      local shown = state.node_state_id == node.id
      state_section.draw(add, shown and state.node_state or nil, shown and state.node_state_error or nil,
        config.options.panel.keys.markdown)
    elseif state.error then
      add(" " .. state.error:gsub("^%(remora%) ", ""), "RemoraPanelMuted")
    elseif node.id then
      add(" loading…", "RemoraPanelMuted")
    else
      add(" Not indexed yet: save the file.", "RemoraPanelMuted")
    end
    rule()
    add(" Status: ● " .. (state.status_text or state.status),
      state.status == "error" and "RemoraPanelError" or state.status == "waiting" and "RemoraPending"
        or "RemoraPanelStatus")
    for _, section in ipairs(M.sections) do
      local ok, err = pcall(section.fn, state, add)
      if not ok then
        add(" " .. section.name .. ": " .. tostring(err), "RemoraPanelError")
      end
    end
    rule()
    add(" Recent events", "RemoraPanelHeader")
    local events = state.events
    local limit = config.options.panel.events
    if #events == 0 or limit == 0 then
      add("   (none)", "RemoraPanelMuted")
    else
      local format = require("remora.events").format -- a pure formatter
      for index = math.max(1, #events - limit + 1), #events do
        add("   " .. format(events[index]))
      end
    end
  end
  rule()
  if node and node.id then
    add(" c chat  S stop  t tools  a accept  x reject", "RemoraPanelHint")
  end
  add(" <CR> jump  r refresh  q close", "RemoraPanelHint")
  return b:model()
end

--- Build and draw the panel from its state.
function M.render()
  M.model = M.build(M.state)
  ui.draw(M.model, ui.width())
  ui.set_pending(M.state.status == "waiting")
end

--- The shown node's file, relative to its root.
function M.file()
  return short_path(M.state)
end

--- Status from the agent data of the shown node; a 1 s timer keeps "running Ns" current.
local ticker = nil
--- The status line from the shown node's agent data (a 1 s timer keeps "running Ns" current).
function M.update_status()
  local node = M.state.node
  local data = node and node.id and agent.data[node.id]
  local status, status_text = agent_section.status_of(data)
  M.state.status, M.state.status_text = status, status_text
  if status == "running" and not ticker then
    ticker = vim.uv.new_timer()
    ticker:start(1000, 1000, vim.schedule_wrap(function()
      if M.state.status ~= "running" or not M.is_open() then
        if ticker then
          ticker:stop()
          ticker:close()
          ticker = nil
        end
        return
      end
      M.update_status()
      M.render()
    end))
  end
end

--- Agent data of `id` changed (remora.agent): re-render when it is the shown node.
function M.on_agent(id, refetch)
  local node = M.state.node
  if not (node and node.id) then
    return
  end
  if id == node.id and refetch then
    M.fetch_agent()
  elseif id == node.id then
    M.update_status()
    if M.is_open() then
      M.render()
    end
  end
end

local function fetch_agent()
  local node = M.state.node
  if node and node.id and M.state.root then
    agent.fetch(M.state.root, node.id, short_path(M.state))
  end
end
M.fetch_agent = fetch_agent

--- True when the panel is open in the current tab page.
function M.is_open()
  return ui.win() ~= nil
end

-- "Latest request wins": at most one request of a kind (node_info, node_state) in flight; a
-- fast-moving cursor must not flood the host, and a reply for a node no longer shown is dropped.
---@param runner remora.Latest
---@param method string
---@param params fun(root: string, id: string): table
---@param on_reply fun(id: string, reply: any, err: string?)
local function fetch_for_node(runner, method, params, on_reply)
  local node = M.state.node
  if not (node and node.id and M.state.root) then
    return
  end
  runner:run(function(done)
    local now = M.state.node
    if not (now and now.id and M.state.root) then
      done()
      return
    end
    local id = now.id
    rpc.request(method, params(M.state.root, id), function(reply, err)
      done()
      local shown = M.state.node
      if shown and shown.id == id then
        on_reply(id, reply, err)
      end
    end)
  end)
end

local info_fetch = latest.new()
local function fetch()
  fetch_for_node(info_fetch, "node_info", function(root, id)
    return { root = root, id = id, limit = math.max(config.options.panel.events, 1) }
  end, function(id, info, err)
    M.state.info_id = id
    if err then
      M.state.info, M.state.error, M.state.events = nil, err, {}
    else
      M.state.info, M.state.error = info, nil
      M.state.events = info.events or {}
    end
    M.render()
  end)
end

-- The node's hub state (the State section, remora.panel.state).
local state_fetch = latest.new()
local function fetch_state()
  fetch_for_node(state_fetch, "node_state", function(root, id) return { root = root, id = id } end,
    function(id, reply, err)
      M.state.node_state_id, M.state.node_state, M.state.node_state_error = id, (not err) and reply or nil, err
      if M.is_open() then
        M.render()
      end
    end)
end
M.fetch_state = fetch_state

--- The node under the cursor changed (from remora.linemap).
function M.set_node(current)
  if not current or ui.is_panel_win(vim.api.nvim_get_current_win()) then
    return
  end
  local state = M.state
  local node = current.node
  local changed = (state.node and state.node.id) ~= (node and node.id) or not node or not node.id
  state.node = node
  state.root = current.map.root
  state.path = vim.api.nvim_buf_get_name(current.buf)
  M.code_win = vim.api.nvim_get_current_win()
  if not M.is_open() then
    if changed then
      state.info, state.info_id, state.error, state.events = nil, nil, nil, {}
    end
    return
  end
  if changed or state.info_id ~= node.id then
    state.info, state.error, state.events = nil, nil, {}
    fetch()
    fetch_state()
    fetch_agent()
  end
  M.update_status()
  M.render()
end

--- Ask Python again for everything the panel shows.
function M.refresh()
  M.state.info_id = nil
  fetch()
  fetch_state()
  fetch_agent()
  M.render()
end

--- Open the panel for the node under the cursor.
function M.open()
  local linemap = require("remora.linemap")
  local from = vim.api.nvim_get_current_win()
  if not ui.is_panel_win(from) then
    M.code_win = from
  end
  ui.open(ui.width())
  local buf = vim.api.nvim_get_current_buf()
  if not ui.is_panel_win(from) and linemap.maps[buf] then
    linemap.track(true)
  elseif not ui.is_panel_win(from) then
    linemap.refresh(buf)
  end
  if M.state.node and M.state.info_id ~= M.state.node.id then
    fetch()
  end
  fetch_state()
  fetch_agent()
  M.update_status()
  M.render()
end

--- Close the panel.
function M.close()
  ui.close()
end

--- Open or close the panel.
function M.toggle()
  if M.is_open() then
    M.close()
  else
    M.open()
  end
end

--- <CR> in the panel.
function M.jump_at_cursor()
  local lnum = ui.cursor_line()
  local target = lnum and M.model.targets[lnum]
  if not (target and target.file) then
    return
  end
  local win = ui.code_window(M.code_win)
  M.code_win = win
  ui.jump(win, target.root .. "/" .. target.file, target.line)
end

--- A buffer got a new line map: when it is the shown node's, its pending proposals may have
--- gone stale (ask again).
---@param buf integer
function M.on_map(buf)
  local node = M.state.node
  local data = node and node.id and agent.data[node.id]
  if data and #data.proposals > 0 and M.state.path == vim.api.nvim_buf_get_name(buf) then
    fetch_agent()
  end
end

--- Keys of the panel buffer added by other features: { {lhs, fn, desc}, ... }.
---@param keys table[]
function M.add_keys(keys)
  vim.list_extend(ui.keys, keys)
end

--- The panel key opening the shown node's state file (`panel.keys.markdown`): { {lhs, fn, desc} } or {}.
function M.state_keys()
  local lhs = config.options.panel.keys.markdown
  if not lhs then
    return {}
  end
  return { { lhs, function() notify.guard(M.open_markdown) end, "Remora: open the node's state file (markdown)" } }
end

--- Open the shown node's markdown state file (.agentfs/nodes/...md) in a split above the code window.
function M.open_markdown()
  local node = M.state.node
  if not (node and node.id) then
    notify.warn("no node shown in the panel")
    return
  end
  local reply = M.state.node_state_id == node.id and M.state.node_state or nil
  local path = reply and reply.markdown
  if not path or path == vim.NIL then
    notify.warn(("the hub has not built the state of %s yet (no markdown file)"):format(node.id))
    return
  end
  ui.split(ui.code_window(M.code_win), path)
end

--- `u` in the panel: undo in the code window the panel follows.
function M.undo_in_code()
  local win = ui.code_window(M.code_win)
  vim.api.nvim_win_call(win, function() vim.cmd("silent undo") end)
end

--- Events pushed from Python: append those about the shown node.
function M.on_events(events)
  local node = M.state.node
  if not (node and node.id) then
    return
  end
  local seen = {}
  for _, event in ipairs(M.state.events) do
    seen[event.seq] = true
  end
  local added = false
  for _, event in ipairs(events) do
    if not seen[event.seq] and vim.tbl_contains(event.nodes or {}, node.id) then
      table.insert(M.state.events, event)
      added = true
    end
  end
  if added and M.is_open() then
    M.render()
  end
  if added then
    fetch_agent() -- the conversation and status follow the node's events
    fetch_state() -- so does the hub's state of the node (the hub writes events as it updates it)
  end
end

return M
