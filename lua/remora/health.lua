-- :checkhealth remora -- says exactly what is missing.
local M = {}

M.MODULES = { "remora_core", "pynvim", "tree_sitter", "tree_sitter_python", "rustworkx", "aiosqlite", "pydantic",
  "watchfiles", "openai", "pathspec" }

local function python_missing(python)
  local script = "import importlib.util as u\nfor m in " .. vim.inspect(M.MODULES):gsub("[{}]", {
    ["{"] = "[", ["}"] = "]" }) .. ":\n  print(m if u.find_spec(m) is None else '')"
  local result = vim.system({ python, "-c", script }, { text = true }):wait(10000)
  if result.code ~= 0 then
    return nil, (result.stderr or "") .. (result.stdout or "")
  end
  local missing = {}
  for line in (result.stdout or ""):gmatch("[^\n]+") do
    if line ~= "" then
      missing[#missing + 1] = line
    end
  end
  return missing
end

--- :checkhealth remora.
function M.check()
  local health = vim.health
  local host = require("remora.host")
  local install = "run :lua require('remora.build').run() (or: <python> -m pip install " .. host.plugin_root() .. ")"

  health.start("remora: Neovim")
  local version = vim.version()
  local text = ("%d.%d.%d"):format(version.major, version.minor, version.patch)
  if vim.fn.has("nvim-0.10") == 1 then
    health.ok("Neovim " .. text)
  else
    health.error("Neovim " .. text .. " is too old", { "Remora needs Neovim 0.10 or newer" })
  end

  health.start("remora: Python host")
  local prog = vim.g.python3_host_prog
  local python_ok = false
  if prog == nil or prog == "" then
    health.error("g:python3_host_prog is not set", {
      "set vim.g.python3_host_prog to a Python 3.11+ with remora installed", install })
  elseif vim.fn.executable(vim.fn.expand(prog)) == 0 then
    health.error("g:python3_host_prog = " .. prog .. " is not executable", { install })
  else
    health.ok("g:python3_host_prog = " .. prog)
    local missing, err = python_missing(vim.fn.expand(prog))
    if not missing then
      health.error("cannot run " .. prog .. ": " .. tostring(err))
    elseif #missing > 0 then
      health.error("not importable in " .. prog .. ": " .. table.concat(missing, ", "), { install })
    else
      python_ok = true
      health.ok("remora_core and its dependencies are importable (" .. table.concat(M.MODULES, ", ") .. ")")
    end
  end

  health.start("remora: remote plugin registration")
  local registered_host, path = host.find()
  if registered_host then
    health.ok(("registered on host %q: %s (%s)"):format(registered_host, path,
      host.how == "manifest" and "from the rplugin manifest" or ("registered by Remora at load: " .. tostring(host.how))))
  else
    health.error("the remote plugin is not registered (:UpdateRemotePlugins dropped it?)", {
      "Remora registers itself when it loads; restart Neovim, or run :UpdateRemotePlugins with Remora loaded" })
  end
  for _, spec in ipairs(host.SPECS) do
    -- A registered remote function is defined on first use (a FuncUndefined autocommand starts
    -- the host): both states are fine.
    local lazy = #vim.api.nvim_get_autocmds({ event = "FuncUndefined", pattern = spec.name }) > 0
    if vim.fn.exists("*" .. spec.name) == 1 then
      health.ok("function " .. spec.name .. "() is defined")
    elseif lazy then
      health.ok("function " .. spec.name .. "() is defined on first use (the Python host starts then)")
    elseif registered_host then
      health.error("function " .. spec.name .. "() is neither defined nor registered")
    end
  end

  health.start("remora: project")
  local buf = vim.api.nvim_get_current_buf()
  local root = require("remora.project").root_of_path(vim.api.nvim_buf_get_name(buf))
    or vim.fs.root(vim.fn.getcwd(), ".remora")
  if not root then
    health.warn("no Remora project here (no .remora/ above the current file or the working directory)",
      { "run :Remora index in the project root" })
    return
  end
  root = vim.fn.fnamemodify(root, ":p"):gsub("/$", "")
  health.info("project root: " .. root)
  if not (python_ok and registered_host) then
    health.error("cannot ask the Python host about the project (see above)")
    return
  end
  local ok, report = pcall(require("remora.rpc").call, "health", { root = root })
  if not ok then
    health.error("the Python host failed: " .. tostring(report))
    return
  end
  local hub = report.hub
  if hub.running then
    health.ok(("remora-hub is running (pid %d, %s)"):format(hub.pid, tostring(hub.state)))
  else
    local autostart = require("remora.config").options.hub.autostart
    health.warn("remora-hub is not running for " .. root, autostart
      and { "hub.autostart is on: it starts when a Python buffer of the project is opened (or :Remora hub start)" }
      or { ":Remora hub start (or set hub.autostart = true)" })
  end
  local schema = report.schema
  if schema.error ~= vim.NIL and schema.error then
    health.error(schema.error)
  elseif schema.version == schema.expected then
    health.ok(("database schema version %d (%s)"):format(schema.version, schema.path))
  elseif schema.version < schema.expected then
    health.warn(("database schema version %d, this Remora uses %d"):format(schema.version, schema.expected),
      { "it is migrated when the hub or :Remora index opens it" })
  else
    health.error(("database schema version %d is newer than this Remora (%d)"):format(schema.version,
      schema.expected), { "upgrade Remora: " .. install })
  end
  -- The registry's languages (remora_core/languages): grammar installed, optional tools on PATH.
  for _, lang in ipairs(report.languages or {}) do
    local what = ("%s (%s)"):format(lang.name, table.concat(lang.extensions, ", "))
    if lang.available then
      local missing = {}
      for tool, found in pairs(lang.tools or {}) do
        if not found then
          table.insert(missing, tool)
        end
      end
      if #missing == 0 then
        health.ok("language " .. what .. ": grammar " .. lang.grammar_package .. " installed")
      else
        health.warn("language " .. what .. ": indexed; not on PATH: " .. table.concat(missing, ", "),
          { "Go: apt-get install golang-go (gofmt aligns new anchors the way gofmt would)" })
      end
    else
      health.warn("language " .. what .. ": not indexed, grammar " .. lang.grammar_package .. " missing",
        { "pip install " .. lang.grammar_package .. " into the Python host's environment" })
    end
  end
  if report.config_error then
    health.error(report.config_error)
    return
  end
  -- The model server, checked as `remora doctor` does (reachable, /v1, API key, model id, tool calls).
  for _, check in ipairs(report.doctor or {}) do
    local text = check.name .. ": " .. check.message
    if check.status == "ok" then
      health.ok(text)
    elseif check.status == "warn" then
      health.warn(text)
    else
      health.error(text, { "start the model server or fix [llm] in .remora/config.toml (see `remora doctor`)" })
    end
  end
end

return M
