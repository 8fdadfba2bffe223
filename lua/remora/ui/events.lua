-- :Remora events: the project's recent events in a scratch split (read-only).
local M = {}

function M.show(root)
  require("remora.rpc").request("events", { root = root, limit = 100 }, function(events, err)
    if err then
      vim.notify(err, vim.log.levels.ERROR)
      return
    end
    local format = require("remora.events").format
    local lines = {}
    for _, event in ipairs(events or {}) do
      lines[#lines + 1] = format(event)
    end
    if #lines == 0 then
      lines = { "(no events yet)" }
    end
    vim.cmd("botright new")
    local buf = vim.api.nvim_get_current_buf()
    vim.bo[buf].buftype = "nofile"
    vim.bo[buf].bufhidden = "wipe"
    vim.bo[buf].swapfile = false
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
    vim.bo[buf].modifiable = false
    vim.bo[buf].filetype = "remora-events"
    vim.keymap.set("n", "q", "<cmd>close<CR>", { buffer = buf, nowait = true })
  end)
end

return M
