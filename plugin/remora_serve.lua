-- :Remora serve (issue #14): registered into the :Remora command without touching its core.
if vim.g.loaded_remora_serve or vim.fn.has("nvim-0.10") == 0 then
  return
end
vim.g.loaded_remora_serve = true

require("remora.commands").register("serve", {
  run = function(args)
    local project = require("remora.project")
    local root = project.root(vim.api.nvim_get_current_buf()) or vim.fs.root(vim.fn.getcwd(), ".remora")
    if not root then
      error("(remora) no Remora project here (no .remora/ above the buffer or the cwd): run ':Remora index'", 0)
    end
    require("remora.serve").run(args[1], vim.fn.resolve(root))
  end,
  complete = { "start", "stop", "open", "status" },
})
