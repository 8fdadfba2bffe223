-- Remora: every function, class, method and file of a Python project as an agent node.
-- setup(opts) validates the options, defines highlights, autocommands and keymaps.
local M = {}

M.did_setup = false
local group = nil

local waiting = nil -- buffers seen during startup, mapped once the screen is drawn

local function attach(buf)
  local linemap = require("remora.linemap")
  if not require("remora.project").root(buf) then
    return
  end
  if vim.v.vim_did_enter == 0 then
    -- `nvim file.py`: the first request starts the Python host (it blocks ~1 s); let Neovim
    -- draw the file first.
    if not waiting then
      waiting = {}
      vim.api.nvim_create_autocmd("VimEnter", { once = true, callback = function()
        vim.defer_fn(function()
          local bufs = waiting or {}
          waiting = nil
          for _, b in ipairs(bufs) do
            if vim.api.nvim_buf_is_valid(b) then
              linemap.refresh(b)
            end
          end
        end, 1)
      end })
    end
    if not vim.tbl_contains(waiting, buf) then
      table.insert(waiting, buf)
    end
    return
  end
  linemap.refresh(buf)
end

local function create_autocmds()
  group = vim.api.nvim_create_augroup("remora", { clear = true })
  local au = vim.api.nvim_create_autocmd
  local linemap = require("remora.linemap")
  au("BufWritePre", {
    group = group,
    pattern = { "*.py", "*.pyi", "*.go", "*.js", "*.jsx", "*.mjs", "*.cjs", "*.ts", "*.tsx", "*.mts", "*.cts" },
    callback = function(ev) require("remora.anchors").before_write(ev.buf) end,
    desc = "Remora: add anchors for new nodes before writing",
  })
  au({ "BufEnter", "BufWritePost", "FileType" }, {
    group = group,
    callback = function(ev)
      local map = linemap.maps[ev.buf]
      -- A write whose map is current needs no new map (the hub's TopologyChanged re-maps the
      -- buffer when the index learns its ids).
      if ev.event == "FileType" or not map or map.tick ~= vim.api.nvim_buf_get_changedtick(ev.buf) then
        attach(ev.buf)
      else
        linemap.track()
      end
    end,
  })
  au({ "TextChanged", "TextChangedI" }, {
    group = group,
    callback = function(ev)
      if linemap.maps[ev.buf] then
        linemap.schedule(ev.buf)
      end
    end,
  })
  au({ "CursorMoved", "CursorMovedI" }, {
    group = group,
    callback = function() linemap.track() end,
  })
  au({ "BufWipeout", "BufDelete" }, {
    group = group,
    callback = function(ev) linemap.detach(ev.buf) end,
  })
  au("BufWinEnter", {
    group = group,
    callback = function(ev) require("remora.anchors").draw(ev.buf) end,
  })
  au("ColorScheme", {
    group = group,
    callback = function() require("remora.ui.highlights").define() end,
  })
  au("VimResized", {
    group = group,
    callback = function()
      local panel = package.loaded["remora.panel"]
      if panel and panel.is_open() then
        panel.render() -- the panel's width follows the editor's (at most 40 % of it)
      end
    end,
    desc = "Remora: keep the side panel at its width after a resize",
  })
end

local function set_keymaps(keymaps)
  for sub, lhs in pairs(keymaps) do
    if lhs then
      vim.keymap.set("n", lhs, "<cmd>Remora " .. sub .. "<CR>", { desc = "Remora " .. sub, silent = true })
    end
  end
end

local function wire()
  local rpc = require("remora.rpc")
  local notify = require("remora.notify")
  local events = require("remora.events")
  local panel = require("remora.panel")
  local linemap = require("remora.linemap")
  local agent = require("remora.agent")
  rpc.on("events", events.receive)
  rpc.on("hub", function(payload)
    notify.notify(payload.message, payload.ok and vim.log.levels.INFO or vim.log.levels.ERROR)
  end)
  rpc.on("error", function(payload) notify.error(payload.message) end)
  events.on(function(list, root)
    panel.on_events(list)
    -- Proposals made or settled by another process (the CLI, another Neovim): signs, notices.
    for _, event in ipairs(list) do
      if event.type == "RewriteProposal" or event.type == "RewriteApplied" or event.type == "RewriteRejected" then
        agent.fetch_pending(root)
        break
      end
    end
    -- Topology changes of a loaded file: its ids may have become known; re-map it.
    for _, event in ipairs(list) do
      if event.type == "TopologyChanged" then
        for buf, map in pairs(linemap.maps) do
          if map.root == root and vim.api.nvim_buf_is_valid(buf) then
            linemap.refresh(buf)
          end
        end
        break
      end
    end
  end)
  linemap.on_change(panel.set_node)
  linemap.on_map(function(buf, map)
    local anchors = require("remora.anchors")
    anchors.draw(buf)
    anchors.on_map(buf, map)
  end)
  linemap.on_map(agent.on_map)
  linemap.on_map(function(_, map)
    require("remora.hub").watch(map.root)
    require("remora.config_watch").watch(map.root)
  end)
  linemap.on_map(panel.on_map)
  linemap.on_map(function(buf, map) require("remora.diagnostics").show(buf, map) end)
  -- The agent runtime: chat, proposals, tools, ghost nodes.
  rpc.on("agent", agent.on_agent)
  rpc.on("stream", agent.on_stream)
  agent.on_agent_event(function(payload) require("remora.ghost").on_agent(payload) end)
  agent.on_change(panel.on_agent)
  agent.on_change(function(id) require("remora.diff").on_agent(id) end)
  linemap.on_map(function(buf) require("remora.diff").on_map(buf) end)
  panel.add_section("agent", require("remora.panel.agent").section)
  local actions = require("remora.actions")
  panel.add_keys(actions.panel_keys())
  panel.add_keys(panel.state_keys())
  require("remora.diff").handlers = { accept = actions.accept_proposal, reject = actions.reject_proposal }
end

--- Configure Remora. Raises "(remora) setup: ..." naming a bad option.
---@param opts? table see |remora-options|
---@return table options
function M.setup(opts)
  local options = require("remora.config").set(opts)
  require("remora.ui.highlights").define()
  if not M.did_setup then
    wire()
  end
  create_autocmds()
  set_keymaps(options.keymaps)
  M.did_setup = true
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(buf) then
      attach(buf)
    end
  end
  return options
end

--- Used by :Remora when setup() was never called: defaults.
function M.ensure_setup()
  if not M.did_setup then
    M.setup({})
  end
end

-- Public API (documented in :help remora-lua).
---@return table? node the line-map entry of the node under the cursor
function M.current_node()
  local current = require("remora.linemap").current
  return current and current.node or nil
end

---@param buf integer
---@param lnum integer
---@return table? node
function M.node_at(buf, lnum)
  return (require("remora.linemap").node_at(buf, lnum))
end

return M
