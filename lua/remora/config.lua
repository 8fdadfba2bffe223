-- Options: ONE schema (name, default, check, description) from which the defaults, the
-- validation of setup(opts) and the vimdoc section |remora-options| all come.
local M = {}

-- A rule: { check = fun(value): boolean, expected = "what it accepts" }.
local function integer_in(low, high)
  return {
    check = function(v) return type(v) == "number" and v == math.floor(v) and v >= low and v <= high end,
    expected = ("an integer between %d and %d"):format(low, high),
  }
end

local function one_of(...)
  local set, names = {}, {}
  for _, value in ipairs({ ... }) do
    set[value] = true
    names[#names + 1] = ("%q"):format(value)
  end
  return { check = function(v) return set[v] == true end, expected = table.concat(names, " | ") }
end

local function boolean()
  return { check = function(v) return type(v) == "boolean" end, expected = "a boolean" }
end

local function mode_letters()
  return {
    check = function(v) return type(v) == "string" and v:match("^[nvic]*$") ~= nil end,
    expected = "a string of the letters n, v, i, c (as 'concealcursor')",
  }
end

local function lhs_or_false()
  return {
    check = function(v) return v == false or (type(v) == "string" and v ~= "") end,
    expected = "a mapping (string) or false",
  }
end

---@class remora.Option
---@field name string dotted name ("panel.width")
---@field default any
---@field check fun(value: any): boolean
---@field expected string what check accepts, for messages and the vimdoc
---@field doc string one-line description

---@param name string
---@param default any
---@param rule table { check, expected }
---@param doc string
---@return remora.Option
local function opt(name, default, rule, doc)
  return { name = name, default = default, check = rule.check, expected = rule.expected, doc = doc }
end

local SUBCOMMANDS = { "panel", "chat", "stop", "accept", "reject", "next", "prev", "ghost", "tools", "ids", "diff",
  "proposals" }

---@type remora.Option[]
M.schema = {
  opt("anchors.mode", "compact", one_of("compact", "conceal", "dim", "none"),
    "compact: padding + anchor concealed, the id as dim virtual text (anchors.id); conceal: hidden; dim: shown dimmed; none"),
  opt("anchors.id", "eol", one_of("eol", "right", "none"),
    "compact mode: where the id is shown: after the code (eol), at the right edge of the window (right: covers"
      .. " code that reaches the edge, e.g. next to the panel), or nowhere"),
  opt("anchors.nowrap", true, boolean(),
    "compact/conceal also set 'nowrap' in windows showing a project buffer (Neovim wraps concealed text)"),
  opt("anchors.concealcursor", "n", mode_letters(),
    "compact/conceal: 'concealcursor' set in those windows when it is empty, so the cursor line stays"
      .. " concealed in these modes (\"\": the cursor line shows its anchor, and the id twice in compact mode)"),
  opt("anchors.on_save", true, boolean(), "add anchors for new nodes on BufWritePre"),
  opt("panel.width", 48, integer_in(20, 400), "width of the side panel (columns; at most 40 % of the editor)"),
  opt("panel.events", 10, integer_in(0, 200), "recent events shown for the node"),
  opt("panel.keys.markdown", "m", lhs_or_false(),
    "panel key opening the node's state file (.agentfs/nodes/...md) in a split (|remora-panel-state|)"),
  opt("diff.inline", true, boolean(), "draw a pending proposal inside the code buffer (|remora-inline-diff|)"),
  opt("diff.hint", true, boolean(), "show the key hint line above an inline diff"),
  opt("diff.keys.accept", "ga", lhs_or_false(), "inline diff: accept the proposal (kept hunks)"),
  opt("diff.keys.reject", "gR", lhs_or_false(), "inline diff: reject the proposal (asks why)"),
  opt("diff.keys.skip", "gs", lhs_or_false(), "inline diff: skip / keep the hunk under the cursor"),
  opt("diff.keys.next", "]h", lhs_or_false(), "inline diff: next hunk"),
  opt("diff.keys.prev", "[h", lhs_or_false(), "inline diff: previous hunk"),
  opt("diff.keys.full", "gD", lhs_or_false(), "inline diff: the full-width diff view (|:Remora-diff|)"),
  opt("hub.autostart", true, boolean(), "ensure remora-hub runs (and restart it when it died)"),
  opt("debounce_ms", 150, integer_in(0, 5000), "line-map refresh delay after a change (milliseconds)"),
  opt("wait_ms", 3000, integer_in(0, 60000),
    "how long a command waits for the buffer's first line map (milliseconds)"),
  opt("diagnostics", true, boolean(), "show index problems (syntax errors) as vim.diagnostic entries"),
}
for _, sub in ipairs(SUBCOMMANDS) do
  M.schema[#M.schema + 1] = opt("keymaps." .. sub, false, lhs_or_false(),
    "global normal-mode mapping for `:Remora " .. sub .. "`")
end

M.by_name = {}
for _, option in ipairs(M.schema) do
  M.by_name[option.name] = option
end

local function nested_defaults()
  local out = {}
  for _, option in ipairs(M.schema) do
    local node = out
    local parts = vim.split(option.name, ".", { plain = true })
    for index = 1, #parts - 1 do
      node[parts[index]] = node[parts[index]] or {}
      node = node[parts[index]]
    end
    node[parts[#parts]] = option.default
  end
  return out
end

M.defaults = nested_defaults()
M.options = vim.deepcopy(M.defaults)

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
      local option = M.by_name[name]
      if not option.check(value) then
        error(("(remora) setup: invalid option %q: expected %s, got %s"):format(name, option.expected,
          vim.inspect(value)), 0)
      end
    end
  end
end

--- Validate `opts` against the schema; the merged options (raises "(remora) setup: ..." errors).
---@param opts? table
---@return table
function M.validate(opts)
  opts = opts or {}
  walk(opts, M.defaults, "")
  return vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts)
end

---@param opts? table
---@return table options the live options
function M.set(opts)
  M.options = M.validate(opts)
  return M.options
end

--- The body of the vimdoc section |remora-options|, generated from the schema (a test checks
--- doc/remora.txt holds exactly these lines).
---@return string[]
function M.vimdoc()
  local wrap = require("remora.text").wrap
  local out = {}
  for _, option in ipairs(M.schema) do
    local tag = "*remora-option-" .. option.name .. "*"
    local head = option.name
    out[#out + 1] = head .. string.rep(" ", math.max(78 - #head - #tag, 1)) .. tag
    local default = ("Default %s. Accepts %s."):format(vim.inspect(option.default), option.expected)
    for _, line in ipairs(wrap(default, 74)) do
      out[#out + 1] = "    " .. line
    end
    for _, line in ipairs(wrap(option.doc .. ".", 74)) do
      out[#out + 1] = "    " .. line
    end
  end
  return out
end

return M
