-- The panel's "State" section: the node's hub state (signature, complexity and its trend, tests and
-- their last result, freshness) from the `node_state` reply. Pure: builds lines, no RPC.
local M = {}

local function present(value)
  return value ~= nil and value ~= vim.NIL
end

--- "3 → 4 → 5" for the last few complexity values (nil when there is no history to show).
---@param trend any[]
---@return string?
function M.trend(trend)
  if not present(trend) or #trend < 2 then
    return nil
  end
  local shown = {}
  for index = math.max(1, #trend - 4), #trend do
    shown[#shown + 1] = tostring(trend[index])
  end
  return table.concat(shown, " → ")
end

local RESULT_GROUP = { passed = "RemoraPanelStatus", failed = "RemoraPanelError", error = "RemoraPanelError" }

--- Draw the section: `reply` is the node_state reply for the shown node (nil while loading),
--- `err` its error; `key` the panel key opening the markdown (or false).
---@param add fun(text: string, group?: string, target?: table)
---@param reply table?
---@param err string?
---@param key string|false
function M.draw(add, reply, err, key)
  add(" State", "RemoraPanelHeader")
  if err then
    add("   " .. tostring(err):gsub("^%(remora%) ", ""), "RemoraPanelMuted")
    return
  end
  if not reply then
    add("   loading…", "RemoraPanelMuted")
    return
  end
  if reply.freshness == "missing" or not present(reply.last_updated) then
    add("   (not built by the hub yet)", "RemoraPanelMuted")
    return
  end
  local fresh_group = reply.freshness == "fresh" and "RemoraPanelStatus" or "RemoraPending"
  add("   freshness: " .. tostring(reply.freshness), fresh_group)
  if present(reply.signature) then
    add("   signature: " .. tostring(reply.signature))
  end
  if present(reply.complexity) then
    local line = "   complexity: " .. tostring(reply.complexity)
    local trend = M.trend(reply.complexity_trend)
    if trend then
      line = line .. "  (" .. trend .. ")"
    end
    add(line)
  end
  local tests = present(reply.tests) and reply.tests or {}
  add(("   tests (%d)"):format(#tests), #tests == 0 and "RemoraPanelMuted" or nil)
  for _, test in ipairs(tests) do
    local result = present(test.last_result) and tostring(test.last_result) or "not run"
    add(("     %s  %s"):format(result, tostring(test.test_id)), RESULT_GROUP[result] or "RemoraPanelMuted")
  end
  if key and present(reply.markdown) then
    add(("   %s open the state file"):format(key), "RemoraPanelHint")
  end
end

return M
