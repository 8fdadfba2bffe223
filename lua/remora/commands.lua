-- The :Remora command: subcommands, completion, and a registry other features extend
-- (`require("remora.commands").register(name, { run = fn(args), complete = {...} })`).
local M = {}

local function current_root()
  local project = require("remora.project")
  return project.root(vim.api.nvim_get_current_buf())
end

local function root_or_cwd()
  return current_root() or vim.fn.getcwd()
end

local function need_root()
  local root = current_root()
  if not root then
    error("(remora) the current buffer is not a Python file of a Remora project (no .remora/ above it): "
      .. "run ':Remora index' in the project root first", 0)
  end
  return root
end

local function not_built(name, what)
  return {
    run = function()
      vim.notify(("(remora) :Remora %s is not built yet (%s arrives with the agent runtime)"):format(name, what),
        vim.log.levels.WARN)
    end,
    not_built = true,
  }
end

M.subs = {
  panel = { run = function() require("remora.panel").toggle() end },
  ids = {
    run = function()
      local mode = require("remora.anchors").toggle()
      vim.notify("(remora) anchors " .. (mode == "conceal" and "concealed" or "dimmed"), vim.log.levels.INFO)
    end,
  },
  hub = {
    run = function(args) require("remora.hub").run(args[1] or "status", need_root()) end,
    complete = { "status", "start", "restart", "stop" },
  },
  index = {
    run = function()
      local root = root_or_cwd()
      vim.notify("(remora) indexing " .. root .. " …", vim.log.levels.INFO)
      require("remora.rpc").request("index", { root = root }, function(result, err)
        if err then
          vim.notify(err, vim.log.levels.ERROR)
          return
        end
        vim.notify("(remora) " .. result.message, vim.log.levels.INFO)
        require("remora.project").forget()
        local linemap = require("remora.linemap")
        for _, buf in ipairs(vim.api.nvim_list_bufs()) do
          if vim.api.nvim_buf_is_loaded(buf) then
            linemap.refresh(buf)
          end
        end
      end)
    end,
  },
  events = { run = function() require("remora.ui.events").show(need_root()) end },
  health = { run = function() vim.cmd("checkhealth remora") end },
  chat = not_built("chat", "chatting with a node"),
  stop = not_built("stop", "cancelling an agent turn"),
  accept = not_built("accept", "diff approval"),
  reject = not_built("reject", "diff approval"),
  next = not_built("next", "proposal navigation"),
  prev = not_built("prev", "proposal navigation"),
  ghost = not_built("ghost", "ghost nodes"),
  tools = not_built("tools", "tool forms"),
}

M.ORDER = { "panel", "chat", "stop", "accept", "reject", "next", "prev", "ghost", "tools", "index", "hub",
  "events", "ids", "health" }

function M.register(name, spec)
  M.subs[name] = spec
  if not vim.tbl_contains(M.ORDER, name) then
    table.insert(M.ORDER, name)
  end
end

function M.run(opts)
  local args = vim.deepcopy(opts.fargs)
  local name = table.remove(args, 1) or "panel"
  local sub = M.subs[name]
  if not sub then
    vim.notify(("(remora) unknown subcommand %q; one of: %s"):format(name, table.concat(M.ORDER, ", ")),
      vim.log.levels.ERROR)
    return
  end
  require("remora").ensure_setup()
  local ok, err = pcall(sub.run, args)
  if not ok then
    vim.notify(tostring(err), vim.log.levels.ERROR)
  end
end

function M.complete(arglead, cmdline, _)
  local words = vim.split(cmdline:sub(1, #cmdline), "%s+", { trimempty = true })
  local completing_first = #words <= 1 or (#words == 2 and arglead ~= "")
  local candidates
  if completing_first then
    candidates = M.ORDER
  else
    local sub = M.subs[words[2]]
    candidates = sub and sub.complete or {}
  end
  return vim.tbl_filter(function(item) return item:sub(1, #arglead) == arglead end, candidates)
end

function M.create()
  vim.api.nvim_create_user_command("Remora", M.run, {
    nargs = "*",
    complete = M.complete,
    desc = "Remora: panel, chat, stop, accept, reject, next, prev, ghost, tools, index, hub, events, ids, health",
  })
end

return M
