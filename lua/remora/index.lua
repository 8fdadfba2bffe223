-- :Remora index: index the project in a subprocess (Python side), then re-map loaded buffers.
local rpc = require("remora.rpc")
local notify = require("remora.notify")

local M = {}

---@param root string
function M.run(root)
  notify.info("indexing " .. root .. " …")
  rpc.request("index", { root = root }, function(result, err)
    if err then
      notify.error(err)
      return
    end
    notify.info(result.message)
    require("remora.project").forget()
    local linemap = require("remora.linemap")
    for _, buf in ipairs(vim.api.nvim_list_bufs()) do
      if vim.api.nvim_buf_is_loaded(buf) then
        linemap.refresh(buf)
      end
    end
  end)
end

return M
