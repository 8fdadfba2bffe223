-- Applying engine line edits to a user's buffer: one undo step with the user's last change,
-- cursor and view kept on the same text.
local M = {}

--- `edits`: { line (0-based), text, insert } in the order the engine gave them (replacements
--- bottom-up, then the file-anchor insertion). Joined to the previous undo step with :undojoin
--- (when Neovim allows it: not right after an undo, E790).
function M.apply_anchor_edits(buf, edits)
  local api = vim.api
  local windows = {}
  for _, win in ipairs(api.nvim_list_wins()) do
    if api.nvim_win_get_buf(win) == buf then
      windows[#windows + 1] = { win = win, view = api.nvim_win_call(win, vim.fn.winsaveview) }
    end
  end
  local inserted = {} -- 0-based lines inserted before
  api.nvim_buf_call(buf, function()
    pcall(vim.cmd, "silent undojoin")
    for _, edit in ipairs(edits) do
      if edit.insert then
        api.nvim_buf_set_lines(buf, edit.line, edit.line, true, { edit.text })
        inserted[#inserted + 1] = edit.line
      else
        api.nvim_buf_set_lines(buf, edit.line, edit.line + 1, true, { edit.text })
      end
    end
  end)
  for _, item in ipairs(windows) do
    local view = item.view
    for _, line in ipairs(inserted) do
      if line < view.lnum then
        view.lnum = view.lnum + 1
      end
      if line < view.topline then
        view.topline = view.topline + 1
      end
    end
    api.nvim_win_call(item.win, function()
      vim.fn.winrestview(view)
    end)
  end
end

-- Accepting a proposal: one undo step of its own, the buffer left modified.
--- Replace lines [start, old_end) (0-based, end exclusive) of `buf` with `replacement`.
function M.replace(buf, start, old_end, replacement)
  vim.api.nvim_buf_set_lines(buf, start, old_end, true, replacement)
end

return M
