-- The remote-plugin registration: find ours in the manifest, or register it directly.
--
-- `:UpdateRemotePlugins` rewrites the manifest from the plugins on 'runtimepath' at that
-- moment, so a lazy-loaded Remora can be dropped from it. At load time (after VimEnter, when
-- the manifest has been sourced) we look for our registration; when it is missing we call
-- remote#host#RegisterPlugin ourselves -- on the shared "python3" host when it is not running
-- yet, else on a clone host "remora_python3" (a running host cannot take new plugins).
-- Never twice: an existing registration (any host, any copy of the path) is reused.
local M = {}

M.SUFFIX = "/rplugin/python3/remora_host"
M.CLONE = "remora_python3"
-- Must match the @pynvim.function declarations in rplugin/python3/remora_host/__init__.py.
M.SPECS = {
  { type = "function", name = "RemoraCall", sync = 1, opts = vim.empty_dict() },
  { type = "function", name = "RemoraNotify", sync = 0, opts = vim.empty_dict() },
}

M.host = nil -- host name once registered
M.how = nil -- "manifest" | "registered" | "clone"

--- The plugin's root directory (resolved).
function M.plugin_root()
  local source = debug.getinfo(1, "S").source:sub(2)
  return vim.fn.fnamemodify(vim.fn.resolve(source), ":p:h:h:h")
end

--- The remote plugin's directory (rplugin/python3/remora_host).
function M.plugin_path()
  return M.plugin_root() .. M.SUFFIX
end

--- (host, path) of an existing registration of our plugin, or nil.
function M.find()
  for _, host in ipairs({ "python3", M.CLONE }) do
    local ok, plugins = pcall(vim.fn["remote#host#PluginsForHost"], host)
    if ok and type(plugins) == "table" then
      for _, plugin in ipairs(plugins) do
        local path = tostring(plugin.path or "")
        if path:sub(-#M.SUFFIX) == M.SUFFIX then
          return host, path
        end
      end
    end
  end
  return nil
end

--- Make sure our functions are registered; returns the host name. Idempotent.
function M.ensure()
  if M.host then
    return M.host
  end
  local host = M.find()
  if host then
    M.host, M.how = host, "manifest"
    return host
  end
  local path = M.plugin_path()
  local running_ok, running = pcall(vim.fn["remote#host#IsRunning"], "python3")
  if running_ok and running == 1 then
    local ok, err = pcall(vim.fn["remote#host#RegisterClone"], M.CLONE, "python3")
    if ok then
      ok, err = pcall(vim.fn["remote#host#RegisterPlugin"], M.CLONE, path, M.SPECS)
    end
    if not ok then
      error("(remora) cannot register the remote plugin on a clone host: " .. tostring(err), 0)
    end
    M.host, M.how = M.CLONE, "clone"
  else
    local ok, err = pcall(vim.fn["remote#host#RegisterPlugin"], "python3", path, M.SPECS)
    if not ok then
      error("(remora) cannot register the remote plugin " .. path .. ": " .. tostring(err), 0)
    end
    M.host, M.how = "python3", "registered"
  end
  return M.host
end

return M
