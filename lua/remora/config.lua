-- Options: defaults, validation (every option, unknown keys named), the live values.
local M = {}

M.defaults = {
  anchors = {
    mode = "dim", -- "dim" | "conceal" | "none": how anchor comments are shown
    on_save = true, -- add anchors for new nodes on BufWritePre
  },
  panel = {
    width = 48, -- fixed width of the side panel (columns)
    events = 10, -- recent events shown for the node
  },
  -- Global normal-mode mappings: subcommand = lhs (or false). None by default: nothing
  -- shadows a built-in unless you ask for it.
  keymaps = {
    panel = false,
    chat = false,
    stop = false,
    accept = false,
    reject = false,
    next = false,
    prev = false,
    ghost = false,
    tools = false,
    ids = false,
  },
  hub = {
    autostart = true, -- ensure remora-hub runs for a project on first use
  },
  debounce_ms = 150, -- line-map refresh delay after a change
}

M.options = vim.deepcopy(M.defaults)

local ANCHOR_MODES = { dim = true, conceal = true, none = true }

local function positive_integer(value)
  return type(value) == "number" and value == math.floor(value) and value > 0
end

local function lhs_or_false(value)
  return value == false or (type(value) == "string" and value ~= "")
end

-- name -> { validator, description }
local RULES = {
  ["anchors.mode"] = {
    function(v) return ANCHOR_MODES[v] == true end,
    '"dim", "conceal" or "none"',
  },
  ["anchors.on_save"] = { "boolean" },
  ["panel.width"] = {
    function(v) return positive_integer(v) and v >= 20 and v <= 400 end,
    "an integer between 20 and 400",
  },
  ["panel.events"] = {
    function(v) return type(v) == "number" and v == math.floor(v) and v >= 0 and v <= 200 end,
    "an integer between 0 and 200",
  },
  ["hub.autostart"] = { "boolean" },
  ["debounce_ms"] = {
    function(v) return type(v) == "number" and v == math.floor(v) and v >= 0 and v <= 5000 end,
    "an integer between 0 and 5000 (milliseconds)",
  },
}
for key in pairs(M.defaults.keymaps) do
  RULES["keymaps." .. key] = { lhs_or_false, "a mapping (string) or false" }
end

local function check(name, value, rule)
  local validator, description = rule[1], rule[2]
  local ok, err
  if vim.fn.has("nvim-0.11") == 1 then
    ok, err = pcall(vim.validate, name, value, validator, false, description)
  else
    ok, err = pcall(vim.validate, { [name] = { value, validator, description } })
  end
  if not ok then
    local got = vim.inspect(value)
    error(("(remora) setup: invalid option %q: expected %s, got %s"):format(
      name, description or validator, got), 0)
  end
  return err
end

local function walk(user, defaults, prefix)
  if type(user) ~= "table" then
    error(("(remora) setup: option %q must be a table, got %s"):format(
      prefix == "" and "opts" or prefix:sub(1, -2), vim.inspect(user)), 0)
  end
  for key, value in pairs(user) do
    local name = prefix .. tostring(key)
    local default = defaults[key]
    if default == nil then
      error(("(remora) setup: unknown option %q"):format(name), 0)
    end
    if type(default) == "table" then
      walk(value, default, name .. ".")
    else
      check(name, value, RULES[name])
    end
  end
end

--- Validate `opts` against the defaults; returns the merged options (raises "(remora) ..." errors).
function M.validate(opts)
  opts = opts or {}
  walk(opts, M.defaults, "")
  return vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts)
end

function M.set(opts)
  M.options = M.validate(opts)
  return M.options
end

return M
