-- codex.nvim: Neovim's client of codex-lsp, a Codex-style coding agent behind the Language Server
-- Protocol. A thin client: it starts the server, forwards every source's diagnostics, sends
-- {uri, version, range, prompt} to the server's commands and shows what the server streams back.
-- See :help codex.
local M = {}

local state = { options = nil, progress = {} }

--- The options in effect (nil before setup).
function M.options()
  return state.options
end

local function map(keymaps)
  local actions = {
    ask = { { "n", "x" }, ":Codex ask<cr>", "Ask Codex" },
    fix = { "n", "<cmd>Codex fix<cr>", "Fix the diagnostics here with Codex" },
    cancel = { "n", "<cmd>Codex cancel<cr>", "Cancel the running Codex turn" },
    transcript = { "n", "<cmd>Codex transcript<cr>", "Show or hide the Codex transcript" },
    accept = { "n", "<cmd>Codex accept<cr>", "Accept the Codex hunk under the cursor" },
    reject = { "n", "<cmd>Codex reject<cr>", "Reject the Codex hunk under the cursor" },
  }
  for name, lhs in pairs(keymaps) do
    local mode, rhs, desc = unpack(actions[name])
    vim.keymap.set(mode, lhs, rhs, { desc = desc, silent = true })
  end
end

local function track_progress(group)
  vim.api.nvim_create_autocmd("LspProgress", {
    group = group,
    desc = "codex: remember the latest progress line for the statusline",
    callback = function(ev)
      local client = vim.lsp.get_client_by_id(ev.data.client_id)
      local value = ev.data.params.value or {}
      if client and client.name == "codex" and type(value) == "table" then
        local token = tostring(ev.data.params.token)
        state.progress[token] = value.kind ~= "end" and (value.message or value.title) or nil
      end
    end,
  })
end

--- Set the plugin up: start codex-lsp for matching buffers, forward diagnostics, define :Codex.
--- Options: see :help codex-options. Calling it again replaces the previous options.
function M.setup(options)
  local resolved = require("codex.config").resolve(options)
  state.options = resolved
  local group = vim.api.nvim_create_augroup("codex", { clear = true })
  local turns = require("codex.turns")
  turns.configure(resolved)
  require("codex.transcript").configure(resolved.transcript)
  if resolved.diagnostics.forward then
    require("codex.diagnostics").setup(group, resolved)
  end
  track_progress(group)
  require("codex.commands").setup()
  map(require("codex.config").keymaps(resolved))
  require("codex.client").enable(resolved, turns.commands(), group)
end

--- For a statusline: "Codex: <what the running turn is doing>", or "" when no turn runs.
function M.statusline()
  for _, message in pairs(state.progress) do
    return "Codex: " .. message
  end
  return ""
end

return M
