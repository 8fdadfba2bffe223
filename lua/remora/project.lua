-- Which project a buffer belongs to: the nearest directory holding `.remora/`.
local M = {}

local cache = {} -- buffer name -> root or false

--- The project root of `path` (the nearest directory holding .remora/), or nil.
---@param path string
function M.root_of_path(path)
  if path == nil or path == "" then
    return nil
  end
  local hit = cache[path]
  if hit == nil then
    hit = vim.fs.root(path, ".remora") or false
    if hit then
      hit = (vim.fn.resolve(vim.fn.fnamemodify(hit, ":p")):gsub("/$", ""))
    end
    cache[path] = hit
  end
  return hit or nil
end

-- The filetypes of the languages Remora indexes (remora_core/languages: the registry).
M.FILETYPES = {
  python = true,
  go = true,
  javascript = true,
  javascriptreact = true,
  typescript = true,
  typescriptreact = true,
}

--- Project root of a source buffer of an indexed language, or nil (Remora stays out of that buffer).
function M.root(buf)
  if not vim.api.nvim_buf_is_valid(buf) or vim.bo[buf].buftype ~= "" or not M.FILETYPES[vim.bo[buf].filetype] then
    return nil
  end
  return M.root_of_path(vim.api.nvim_buf_get_name(buf))
end

--- Forget the cached roots (after :Remora index).
function M.forget()
  cache = {}
end

return M
