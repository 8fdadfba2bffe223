-- Remora: every function, class, method and file of a Python project as an agent node.
-- setup(opts) validates the options, defines highlights, autocommands and keymaps.
local M = {}

M.did_setup = false
local group = nil

local function attach(buf)
  local linemap = require("remora.linemap")
  if require("remora.project").root(buf) then
    linemap.refresh(buf)
  end
end

local function create_autocmds()
  group = vim.api.nvim_create_augroup("remora", { clear = true })
  local au = vim.api.nvim_create_autocmd
  local linemap = require("remora.linemap")
  au("BufWritePre", {
    group = group,
    pattern = { "*.py", "*.pyi" },
    callback = function(ev) require("remora.anchors").before_write(ev.buf) end,
    desc = "Remora: add anchors for new nodes before writing",
  })
  au({ "BufEnter", "BufWritePost", "FileType" }, {
    group = group,
    callback = function(ev)
      local map = linemap.maps[ev.buf]
      if ev.event ~= "BufEnter" or not map or map.tick ~= vim.api.nvim_buf_get_changedtick(ev.buf) then
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
    callback = function(ev)
      local map = linemap.maps[ev.buf]
      if map then
        require("remora.ui.anchors").draw(ev.buf, map.anchors, require("remora.config").options.anchors.mode)
      end
    end,
  })
  au("ColorScheme", {
    group = group,
    callback = function() require("remora.ui.highlights").define() end,
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
  local events = require("remora.events")
  local panel = require("remora.panel")
  local linemap = require("remora.linemap")
  rpc.on("events", events.receive)
  rpc.on("hub", function(payload)
    vim.notify("(remora) " .. tostring(payload.message), payload.ok and vim.log.levels.INFO or vim.log.levels.ERROR)
  end)
  rpc.on("error", function(payload)
    vim.notify("(remora) " .. tostring(payload.message), vim.log.levels.ERROR)
  end)
  events.on(function(list, root)
    panel.on_events(list)
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
  -- The agent runtime: chat, proposals, tools, ghost nodes.
  local agent = require("remora.agent")
  rpc.on("agent", agent.on_agent)
  rpc.on("stream", agent.on_stream)
  agent.on_change(panel.on_agent)
  panel.add_section("agent", require("remora.agent_panel").section)
  require("remora.actions").register()
end

--- Configure Remora. Raises "(remora) setup: ..." naming a bad option.
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
function M.current_node()
  local current = require("remora.linemap").current
  return current and current.node or nil
end

function M.node_at(buf, lnum)
  return (require("remora.linemap").node_at(buf, lnum))
end

return M
