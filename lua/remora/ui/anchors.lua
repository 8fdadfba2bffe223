-- Drawing anchor comments with extmarks: "compact" (padding + anchor concealed, the id as dim
-- virtual text after the code or at the right edge), "conceal" (hidden), "dim" (highlighted in place) or "none".
-- The file anchor (`# remora-file: ...` on its own line) is hidden as a whole line when
-- concealed (conceal_lines, Neovim 0.11), so it does not show as a blank line.
local M = {}

M.ns = vim.api.nvim_create_namespace("remora.anchors")

local HIDES = { compact = true, conceal = true }

--- Set the window options a hiding mode needs in every window showing `buf`.
---@param buf integer
---@param mode string
---@param nowrap boolean
---@param concealcursor? string modes in which the cursor line stays concealed (set when the window has none)
function M.set_window_options(buf, mode, nowrap, concealcursor)
  if not HIDES[mode] then
    return
  end
  for _, win in ipairs(vim.api.nvim_list_wins()) do
    if vim.api.nvim_win_get_buf(win) == buf then
      if vim.wo[win].conceallevel < 2 then
        vim.wo[win][0].conceallevel = 2
      end
      -- Neovim 0.11 still lays concealed text out (neovim#14409): a def line whose hidden
      -- anchor ends at column 150 would take two screen lines in a narrower window.
      if nowrap and vim.wo[win].wrap then
        vim.wo[win][0].wrap = false
      end
      -- With an empty 'concealcursor', the cursor line shows the padding and the anchor (and,
      -- in compact mode, the id a second time as virtual text) as the cursor moves over it.
      if concealcursor and concealcursor ~= "" and vim.wo[win].concealcursor == "" then
        vim.wo[win][0].concealcursor = concealcursor
      end
    end
  end
end

--- `anchors`: { {lnum (1-based), start_col, end_col, id?, file?}, ... } byte columns.
---@param buf integer
---@param anchors table[]?
---@param mode string "compact" | "conceal" | "dim" | "none"
---@param nowrap? boolean
---@param id_position? string "eol" | "right" | "none" (compact mode)
---@param concealcursor? string see set_window_options
function M.draw(buf, anchors, mode, nowrap, id_position, concealcursor)
  local api = vim.api
  if not api.nvim_buf_is_valid(buf) then
    return
  end
  api.nvim_buf_clear_namespace(buf, M.ns, 0, -1)
  if mode == "none" or not anchors then
    return
  end
  local line_count = api.nvim_buf_line_count(buf)
  for _, anchor in ipairs(anchors) do
    local row = anchor[1] - 1
    if row < line_count then
      local opts = { end_col = anchor[3], hl_group = "RemoraAnchor", priority = 90, strict = false }
      local whole_line = anchor[2] == 0
      if HIDES[mode] then
        opts.conceal = ""
        if whole_line then
          opts.conceal_lines = ""
        elseif mode == "compact" and id_position ~= "none" then
          local line = api.nvim_buf_get_lines(buf, row, row + 1, false)[1] or ""
          local id = line:sub(anchor[2] + 1, anchor[3]):match("rm_[a-z0-9]+")
          if id then
            opts.virt_text = { { id, "RemoraAnchorId" } }
            opts.virt_text_pos = id_position == "right" and "right_align" or "eol"
            opts.virt_text_hide = true
          end
        end
      end
      pcall(api.nvim_buf_set_extmark, buf, M.ns, row, anchor[2], opts)
    end
  end
  M.set_window_options(buf, mode, nowrap ~= false, concealcursor)
end

--- Marks currently drawn in `buf` (tests and the health check read this).
---@param buf integer
function M.marks(buf)
  return vim.api.nvim_buf_get_extmarks(buf, M.ns, 0, -1, { details = true })
end

return M
