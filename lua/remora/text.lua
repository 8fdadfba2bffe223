-- The one text/extmark builder: views build a model (lines, highlights, targets per line) and
-- draw it into a scratch buffer with `draw`. Also `wrap` for text in narrow windows.
local M = {}

---@class remora.Model
---@field lines string[]
---@field hls table[] {row (0-based), col_start, col_end, group}
---@field targets table<integer, table> 1-based line -> what <CR> / keys act on

---@class remora.Builder: remora.Model
local Builder = {}
Builder.__index = Builder

---@param width? integer rule width
---@return remora.Builder
function M.builder(width)
  return setmetatable({ lines = {}, hls = {}, targets = {}, width = width or 30 }, Builder)
end

--- Append a line, highlighted whole with `group` (optional), carrying `target` (optional).
---@param text string
---@param group? string
---@param target? table
function Builder:add(text, group, target)
  self.lines[#self.lines + 1] = text
  if group then
    self.hls[#self.hls + 1] = { #self.lines - 1, 0, #text, group }
  end
  if target then
    self.targets[#self.lines] = target
  end
end

--- Highlight byte columns [s, e) of the last line.
function Builder:hl(s, e, group)
  self.hls[#self.hls + 1] = { #self.lines - 1, s, e, group }
end

--- A horizontal rule as wide as the view.
function Builder:rule()
  self:add(string.rep("─", math.max(self.width - 1, 1)), "RemoraPanelRule")
end

--- The `add` function alone (sections are handed this).
---@return fun(text: string, group?: string, target?: table)
function Builder:adder()
  return function(text, group, target) self:add(text, group, target) end
end

---@return remora.Model
function Builder:model()
  return { lines = self.lines, hls = self.hls, targets = self.targets }
end

--- Split `text` into display lines of at most `width` characters (newlines kept).
---@param text? string
---@param width integer
---@return string[]
function M.wrap(text, width)
  local out = {}
  for _, line in ipairs(vim.split(text or "", "\n", { plain = true })) do
    if line == "" then
      out[#out + 1] = ""
    end
    while #line > width do
      local cut = line:sub(1, width + 1):match("^.*() ")
      if not cut or cut <= 1 then
        cut = width + 1
      end
      out[#out + 1] = line:sub(1, cut - 1)
      line = line:sub(cut):gsub("^ ", "")
    end
    if #line > 0 then
      out[#out + 1] = line
    end
  end
  return out
end

--- Draw `model` into the scratch buffer `buf` (lines + highlight extmarks in `ns`).
---@param buf integer
---@param ns integer
---@param model remora.Model
function M.draw(buf, ns, model)
  local api = vim.api
  vim.bo[buf].modifiable = true
  api.nvim_buf_set_lines(buf, 0, -1, false, model.lines)
  vim.bo[buf].modifiable = false
  vim.bo[buf].modified = false
  api.nvim_buf_clear_namespace(buf, ns, 0, -1)
  for _, hl in ipairs(model.hls) do
    api.nvim_buf_set_extmark(buf, ns, hl[1], hl[2], { end_col = hl[3], hl_group = hl[4], strict = false })
  end
end

--- Buffer-local normal-mode keys: { {lhs, fn, desc}, ... }.
---@param buf integer
---@param keys table[]
function M.map_keys(buf, keys)
  for _, key in ipairs(keys) do
    vim.keymap.set("n", key[1], key[2], { buffer = buf, nowait = true, silent = true, desc = key[3] })
  end
end

return M
