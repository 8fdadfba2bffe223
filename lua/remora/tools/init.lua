-- :Remora tools: pick one of the node's tools (core + extension), fill the form generated from
-- its JSON schema, Execute calls it as the human; the result goes to the panel.
local forms = require("remora.tools.forms")
local rpc = require("remora.rpc")
local text = require("remora.text")
local agent = require("remora.agent")
local notify_mod = require("remora.notify")
local view = require("remora.tools.view")

local M = {}

M.current = nil -- { ctx, form }
M.model = { lines = {}, hls = {}, targets = {} }
M.MULTILINE = { new_source = true, source = true } -- fields edited in the text box (python)

local function notify(message, level)
  notify_mod.notify(message, level)
end

view.keys = {
  { "<CR>", function() M.activate(vim.api.nvim_win_get_cursor(0)[1]) end, "Remora: edit the field / run" },
  { "q", function() M.close() end, "Remora: close the form" },
  { "<Esc>", function() M.close() end, "Remora: close the form" },
}

local function first_line(text)
  return vim.split(text or "", "\n", { plain = true })[1]
end

--- The render model of the open form.
function M.build(current)
  local form, ctx = current.form, current.ctx
  local b = text.builder(view.WIDTH)
  local add = b:adder()
  add((" Tool %s of %s"):format(form.tool.name, ctx.id), "RemoraPanelTitle")
  for _, line in ipairs(text.wrap(form.tool.description, 58)) do
    add(" " .. line, "RemoraPanelMuted")
  end
  add("")
  if #form.fields == 0 then
    add(" (no arguments)", "RemoraPanelMuted")
  end
  for _, field in ipairs(form.fields) do
    local target = { field = field.name }
    local kind = field.kind == "list" and ("list of " .. field.items) or field.kind
    add((" %s  %s%s"):format(field.name, kind, field.required and ", required" or ""), "RemoraFormField", target)
    local value = form.values[field.name]
    local shown
    if field.kind == "boolean" then
      shown = (value and "[x] " or "[ ] ") .. tostring(value == true)
    elseif field.kind == "enum" then
      shown = value ~= nil and ("‹" .. tostring(value) .. "›  (" .. table.concat(vim.tbl_map(tostring, field.choices), " | ") .. ")")
        or ("(choose: " .. table.concat(vim.tbl_map(tostring, field.choices), " | ") .. ")")
    else
      local typed = forms.show(field, value)
      shown = typed ~= "" and typed or "(empty)"
    end
    add("   " .. shown, value == nil and "RemoraPanelMuted" or nil, target)
    if form.errors[field.name] then
      add("   ! " .. form.errors[field.name], "RemoraFormError", target)
    end
  end
  add("")
  add(" [ Execute ]", "RemoraFormButton", { action = "execute" })
  add(" [ Cancel ]", "RemoraPanelHint", { action = "cancel" })
  if form.message then
    add(" " .. form.message, form.message:match("^fix") and "RemoraFormError" or "RemoraPanelMuted")
  end
  add(" <CR> edit / toggle / run   q cancel", "RemoraPanelHint")
  return b:model()
end

--- Draw the open form again.
function M.render()
  if not M.current then
    return
  end
  M.model = M.build(M.current)
  view.draw(M.model)
end

local function open_form(ctx, tool)
  M.current = { ctx = ctx, form = forms.new(tool) }
  M.model = M.build(M.current)
  view.open(M.model)
end

--- Open the tool list (or the form of `name`) for the node of `ctx` ({ root, id }).
---@param ctx table { root, id }
---@param name? string
---@param on_result? fun() called after a tool ran (the result is in remora.agent.tool_result)
function M.open(ctx, name, on_result)
  M.on_result = on_result
  rpc.request("agent_tools", { root = ctx.root, id = ctx.id }, function(list, err)
    if err then
      notify(err, vim.log.levels.ERROR)
      return
    end
    if name and name ~= "" then
      for _, tool in ipairs(list) do
        if tool.name == name then
          open_form(ctx, tool)
          return
        end
      end
      notify(("%s has no tool %q (it has: %s)"):format(ctx.id, name,
        table.concat(vim.tbl_map(function(t) return t.name end, list), ", ")), vim.log.levels.ERROR)
      return
    end
    vim.ui.select(list, {
      prompt = "Tools of " .. ctx.id,
      format_item = function(tool) return tool.name .. " — " .. first_line(tool.description) end,
    }, function(tool)
      if tool then
        open_form(ctx, tool)
      end
    end)
  end)
end

local function field_of(name)
  for _, field in ipairs(M.current.form.fields) do
    if field.name == name then
      return field
    end
  end
end

--- <CR> in the form on 1-based line `lnum`.
function M.activate(lnum)
  local current = M.current
  local target = current and M.model.targets[lnum]
  if not target then
    return
  end
  if target.action == "execute" then
    M.execute()
  elseif target.action == "cancel" then
    M.close()
  elseif target.field then
    local field = field_of(target.field)
    local form = current.form
    if field.kind == "boolean" then
      forms.toggle(form, field.name)
      M.render()
    elseif field.kind == "enum" then
      vim.ui.select(field.choices, { prompt = field.name }, function(choice)
        if choice ~= nil and M.current == current then
          forms.set(form, field.name, tostring(choice))
          M.render()
        end
      end)
    elseif M.MULTILINE[field.name] and field.kind == "string" then
      require("remora.input").open({
        title = ("%s of %s"):format(field.name, form.tool.name),
        text = forms.show(field, form.values[field.name]),
        filetype = "python",
        on_submit = function(typed)
          if M.current == current then
            forms.set(form, field.name, typed)
            view.focus()
            M.render()
          end
        end,
      })
    else
      local hint = field.kind == "list" and " (comma-separated)" or ""
      vim.ui.input({ prompt = ("%s (%s)%s: "):format(field.name, field.kind, hint),
        default = forms.show(field, form.values[field.name]) }, function(typed)
        if typed ~= nil and M.current == current then
          forms.set(form, field.name, typed)
          M.render()
        end
      end)
    end
  end
end

--- Validate the form and call the tool as the human; the result goes to the panel.
function M.execute()
  local current = M.current
  if not current then
    return
  end
  local form, ctx = current.form, current.ctx
  local args = forms.arguments(form)
  if not args then
    form.message = "fix the fields marked !"
    M.render()
    return
  end
  form.message = "running " .. form.tool.name .. "…"
  M.render()
  rpc.request("agent_tool_call", { root = ctx.root, id = ctx.id, tool = form.tool.name, arguments = args },
    function(result, err)
      if err then
        agent.tool_result = { node = ctx.id, tool = form.tool.name, ok = false, text = err }
      else
        agent.tool_result = { node = ctx.id, tool = form.tool.name, ok = result.ok, text = result.text }
      end
      if M.current == current then
        M.close()
      end
      if M.on_result then
        M.on_result()
      end
      agent.changed(ctx.id)
      notify(("tool %s: %s"):format(form.tool.name, agent.tool_result.ok and "done (see the panel)" or "failed"),
        agent.tool_result.ok and vim.log.levels.INFO or vim.log.levels.WARN)
    end)
end

--- Close the form.
function M.close()
  M.current = nil
  view.close()
end

return M
