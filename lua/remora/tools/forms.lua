-- Tool forms from JSON schemas (the same ones the model gets): fields, parsing what the user
-- typed, validation messages. Pure logic: remora.ui.form draws, remora.tools drives.
local M = {}

local SCALAR = { string = true, number = true, integer = true, boolean = true }

local function kind_of(prop)
  if prop.enum then
    return "enum", nil
  end
  local t = prop.type
  if type(t) == "table" then -- { "string", "null" }
    t = vim.tbl_filter(function(item) return item ~= "null" end, t)[1]
  end
  if not t and prop.anyOf then -- Optional[X]: anyOf [{type = X}, {type = "null"}]
    for _, option in ipairs(prop.anyOf) do
      if option.type ~= "null" then
        local kind, items = kind_of(option)
        return kind, items, option
      end
    end
  end
  if t == "array" then
    local items = prop.items or {}
    return "list", SCALAR[items.type] and items.type or "string"
  end
  return SCALAR[t] and t or "string", nil
end

--- Fields of a tool's `parameters` schema, in `order` (names) when given, else required first.
function M.fields(parameters, order)
  local props = parameters.properties or {}
  local required = {}
  for _, name in ipairs(parameters.required or {}) do
    required[name] = true
  end
  local names = vim.tbl_keys(props)
  local rank = {}
  for index, name in ipairs(order or {}) do
    rank[name] = index
  end
  table.sort(names, function(a, b)
    if rank[a] and rank[b] then
      return rank[a] < rank[b]
    end
    if required[a] ~= required[b] then
      return required[a] == true
    end
    return a < b
  end)
  local fields = {}
  for _, name in ipairs(names) do
    local prop = props[name]
    local kind, items, inner = kind_of(prop)
    local default = prop.default
    if default == vim.NIL then
      default = nil
    end
    fields[#fields + 1] = {
      name = name,
      kind = kind,
      items = items,
      choices = prop.enum or (inner and inner.enum) or nil,
      required = required[name] == true,
      default = default,
      description = prop.description ~= vim.NIL and prop.description or nil,
    }
  end
  return fields
end

local function scalar(kind, text)
  if kind == "integer" then
    local value = tonumber(text)
    if not value or value ~= math.floor(value) or text:find("[%.eE]") then
      return nil, ("%q is not an integer"):format(text)
    end
    return value
  elseif kind == "number" then
    local value = tonumber(text)
    if not value then
      return nil, ("%q is not a number"):format(text)
    end
    return value
  elseif kind == "boolean" then
    local lowered = text:lower()
    if lowered == "true" or lowered == "yes" or lowered == "1" then
      return true
    elseif lowered == "false" or lowered == "no" or lowered == "0" then
      return false
    end
    return nil, ("%q is not true or false"):format(text)
  end
  return text
end

--- The value of `field` from what the user typed (nil text or "" clears it): value, error.
function M.parse(field, text)
  if text == nil or text == "" then
    return nil, nil
  end
  if field.kind == "enum" then
    for _, choice in ipairs(field.choices or {}) do
      if tostring(choice) == text then
        return choice
      end
    end
    return nil, ("%q is not one of: %s"):format(text, table.concat(vim.tbl_map(tostring, field.choices or {}), ", "))
  end
  if field.kind == "list" then
    local values = {}
    for item in vim.gsplit(text, ",", { plain = true, trimempty = true }) do
      local value, err = scalar(field.items or "string", vim.trim(item))
      if err then
        return nil, "item " .. err
      end
      values[#values + 1] = value
    end
    return values
  end
  return scalar(field.kind, text)
end

--- How a value is shown in the form (and prefilled in the input prompt).
function M.show(field, value)
  if value == nil then
    return ""
  end
  if field.kind == "list" then
    return table.concat(vim.tbl_map(tostring, value), ", ")
  end
  return tostring(value)
end

--- A form state for one tool.
function M.new(tool)
  local form = { tool = tool, fields = M.fields(tool.parameters or {}, tool.order), values = {}, errors = {}, message = nil }
  for _, field in ipairs(form.fields) do
    if field.default ~= nil then
      form.values[field.name] = field.default
    elseif field.kind == "boolean" and field.required then
      form.values[field.name] = false
    end
  end
  return form
end

--- Set a field from typed text; the error (also kept in form.errors) or nil.
function M.set(form, name, text)
  for _, field in ipairs(form.fields) do
    if field.name == name then
      local value, err = M.parse(field, text)
      form.errors[name] = err
      if not err then
        form.values[name] = value
      end
      return err
    end
  end
  return "no field " .. name
end

--- Flip a boolean field.
---@param form any
---@param name string
function M.toggle(form, name)
  form.values[name] = not form.values[name]
  form.errors[name] = nil
end

--- The arguments to send, or nil and the errors by field (required fields missing).
function M.arguments(form)
  local args, errors, ok = {}, {}, true
  for _, field in ipairs(form.fields) do
    local value = form.values[field.name]
    if form.errors[field.name] then
      errors[field.name] = form.errors[field.name]
      ok = false
    elseif value == nil and field.required then
      errors[field.name] = "required"
      ok = false
    elseif value ~= nil then
      args[field.name] = value
    end
  end
  form.errors = errors
  if not ok then
    return nil, errors
  end
  return vim.tbl_isempty(args) and vim.empty_dict() or args, nil
end

return M
