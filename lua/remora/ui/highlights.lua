-- Highlight groups (all `default`, so a colorscheme or the user can override them).
local M = {}

M.groups = {
  RemoraAnchor = { link = "NonText" }, -- anchor comments when dimmed
  RemoraAnchorId = { link = "NonText" }, -- the id at the right edge (anchors.mode = "compact")
  RemoraDiffInlineAdd = { link = "DiffAdd" }, -- inline diff: added lines in the code buffer
  RemoraDiffInlineDelete = { link = "DiffDelete" }, -- inline diff: removed lines (virtual lines)
  RemoraDiffInlineHint = { link = "DiagnosticHint" }, -- inline diff: the key hint line
  RemoraPanelId = { link = "Identifier" },
  RemoraPanelTitle = { link = "Title" },
  RemoraPanelHeader = { link = "Label" },
  RemoraPanelMuted = { link = "Comment" },
  RemoraPanelLink = { link = "Directory" },
  RemoraPanelStatus = { link = "DiagnosticOk" },
  RemoraPanelError = { link = "DiagnosticError" },
  RemoraPanelRule = { link = "WinSeparator" },
  RemoraPanelHint = { link = "SpecialKey" },
  RemoraPending = { fg = "#d7af00", ctermfg = 178, bold = true }, -- gold: nodes with a pending proposal
  RemoraDiffAdd = { link = "DiffAdd" },
  RemoraDiffDelete = { link = "DiffDelete" },
  RemoraDiffHunk = { link = "DiffChange" },
  RemoraDiffSkipped = { link = "Comment" }, -- a hunk the user chose not to apply
  RemoraChatHuman = { link = "Question" },
  RemoraChatAgent = { link = "Normal" },
  RemoraStream = { link = "MoreMsg" },
  RemoraGhost = { link = "DiagnosticHint" }, -- the ghost placeholder line
  RemoraFormField = { link = "Identifier" },
  RemoraFormError = { link = "DiagnosticError" },
  RemoraFormButton = { link = "PmenuSel" },
}

--- Define the highlight groups (default = true: colorschemes win).
function M.define()
  for name, spec in pairs(M.groups) do
    vim.api.nvim_set_hl(0, name, vim.tbl_extend("force", spec, { default = true }))
  end
end

return M
