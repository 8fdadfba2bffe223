-- Events pushed by Python: kept per node (small rings) for the panel and :Remora events.
local M = {}

M.RING = 50
M.by_node = {} -- id -> { summary, ... } oldest first
M.recent = {} -- every pushed event, oldest first (last 200)
M.listeners = {}

--- `fn(events, root)` for every batch of pushed events.
---@param fn function
function M.on(fn)
  table.insert(M.listeners, fn)
end

local function push_ring(ring, item, size)
  ring[#ring + 1] = item
  if #ring > size then
    table.remove(ring, 1)
  end
end

--- rpc push "events": { root, events = { summary, ... } }.
function M.receive(payload)
  local events = payload.events or {}
  for _, event in ipairs(events) do
    event.root = payload.root
    push_ring(M.recent, event, 200)
    for _, id in ipairs(event.nodes or {}) do
      M.by_node[id] = M.by_node[id] or {}
      push_ring(M.by_node[id], event, M.RING)
    end
  end
  for _, fn in ipairs(M.listeners) do
    fn(events, payload.root)
  end
end

---@param event table a summary { seq, time, type, text, nodes }
---@return string
function M.format(event)
  return ("%s %s %s"):format(os.date("%H:%M:%S", math.floor(event.time or 0)), event.type or "?", event.text or "")
end

--- :Remora events: the project's last 100 events in a scratch split.
---@param root string
function M.show(root)
  require("remora.rpc").request("events", { root = root, limit = 100 }, function(events, err)
    if err then
      require("remora.notify").error(err)
      return
    end
    local lines = {}
    for _, event in ipairs(events or {}) do
      lines[#lines + 1] = M.format(event)
    end
    if #lines == 0 then
      lines = { "(no events yet)" }
    end
    require("remora.events.view").show(lines)
  end)
end

return M
