-- The :Remora command: subcommands, completion, and a registry other features extend
-- (`require("remora.commands").register(name, { run = fn(args), complete = {...} })`).
-- A failing subcommand shows ONE "(remora) ..." line, never a stack trace.
local notify = require("remora.notify")

local M = {}

local function current_root()
  return require("remora.project").root(vim.api.nvim_get_current_buf())
end

local function root_or_cwd()
  return current_root() or vim.fs.root(vim.fn.getcwd(), ".remora") or vim.fn.getcwd()
end

local function need_root()
  local root = current_root()
  if not root then
    error("(remora) the current buffer is not a Python file of a Remora project (no .remora/ above it): "
      .. "run ':Remora index' in the project root first", 0)
  end
  return root
end

local function actions()
  return require("remora.actions")
end

local function rest(args)
  return table.concat(args, " ")
end

M.subs = {
  panel = { run = function() require("remora.panel").toggle() end },
  ids = {
    run = function()
      local mode = require("remora.anchors").toggle()
      notify.info("anchors: " .. mode)
    end,
  },
  hub = {
    run = function(args) require("remora.hub").run(args[1] or "status", need_root()) end,
    complete = { "status", "start", "restart", "stop" },
  },
  index = { run = function() require("remora.index").run(root_or_cwd()) end },
  events = { run = function() require("remora.events").show(need_root()) end },
  health = { run = function() vim.cmd("checkhealth remora") end },
  chat = {
    run = function(args)
      local new = args[1] == "--new"
      if new then
        table.remove(args, 1)
      end
      actions().chat(rest(args), new)
    end,
    complete = { "--new" },
  },
  stop = { run = function() actions().stop() end },
  accept = { run = function() actions().accept() end },
  reject = { run = function(args) actions().reject(rest(args)) end },
  next = { run = function() actions().next() end },
  prev = { run = function() actions().prev() end },
  ghost = { run = function() actions().ghost() end },
  tools = { run = function(args) actions().tools(args[1]) end },
  diff = { run = function() actions().diff() end },
  proposals = { run = function() actions().proposals() end },
}

M.ORDER = { "panel", "chat", "stop", "accept", "reject", "next", "prev", "ghost", "tools", "diff", "proposals", "index", "hub",
  "events", "ids", "health" }

--- Add or replace a subcommand.
---@param name string
---@param spec table { run = fun(args: string[]), complete? = string[] }
function M.register(name, spec)
  M.subs[name] = spec
  if not vim.tbl_contains(M.ORDER, name) then
    table.insert(M.ORDER, name)
  end
end

--- :Remora {sub} [args]
---@param opts table the user-command callback's argument
function M.run(opts)
  local args = vim.deepcopy(opts.fargs)
  local name = table.remove(args, 1) or "panel"
  local sub = M.subs[name]
  if not sub then
    notify.error(("unknown subcommand %q; one of: %s"):format(name, table.concat(M.ORDER, ", ")))
    return
  end
  if not notify.guard(require("remora").ensure_setup) then
    return
  end
  notify.guard(sub.run, args)
end

--- Completion of :Remora.
---@param arglead string
---@param cmdline string
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

--- Create the :Remora command.
function M.create()
  vim.api.nvim_create_user_command("Remora", M.run, {
    nargs = "*",
    complete = M.complete,
    desc = "Remora: " .. table.concat(M.ORDER, ", "),
  })
end

return M
