-- Every message Remora shows goes through here: one line, tagged "(remora)", never a stack trace.
local M = {}

M.TAG = "(remora) "

--- One clean line from an error value: the "(remora) " tag once, no "file.lua:12: " prefix, no
--- traceback, the first line only when the text is long.
---@param err any
---@return string
function M.clean(err)
  local text = tostring(err == nil and "unknown error" or err)
  text = text:gsub("\nstack traceback:.*$", "")
  text = text:gsub("^[^\n]-%.lua:%d+: ", "")
  text = text:gsub("^%(remora%) ", "")
  return M.TAG .. text
end

--- The message of an error value without the tag.
---@param err any
---@return string
function M.message(err)
  return M.clean(err):sub(#M.TAG + 1)
end

--- Show `text` (tagged) at `level` (default INFO).
---@param text string
---@param level? integer vim.log.levels
function M.notify(text, level)
  vim.notify(M.clean(text), level or vim.log.levels.INFO)
end

---@param text string
function M.info(text) M.notify(text, vim.log.levels.INFO) end
---@param text string
function M.warn(text) M.notify(text, vim.log.levels.WARN) end
---@param text string
function M.error(text) M.notify(text, vim.log.levels.ERROR) end

--- Call `fn(...)`; an error becomes one "(remora) ..." line instead of a stack trace.
---@param fn function
---@return boolean ok
function M.guard(fn, ...)
  local ok, err = pcall(fn, ...)
  if not ok then
    M.error(err)
  end
  return ok
end

return M
