-- Loaded first by the init file tests/editors/nvim_driver.py writes for every test Neovim.
-- It makes a headless Neovim deterministic (no swap files, no shada, no "-- More --" prompts) and records
-- what the user would have seen, so the Python side can read it over RPC: vim.notify calls and LspProgress.
local M = { notifications = {}, progress = {} }
_G.codex_test = M

vim.opt.swapfile = false
vim.opt.more = false
vim.opt.shortmess:append("I")

local notify = vim.notify
vim.notify = function(msg, level, opts)
  table.insert(M.notifications, { message = tostring(msg), level = level or vim.log.levels.INFO })
  return notify(msg, level, opts)
end

vim.api.nvim_create_autocmd("LspProgress", {
  callback = function(ev)
    local client = vim.lsp.get_client_by_id(ev.data.client_id)
    table.insert(M.progress, {
      client = client and client.name or vim.NIL,
      token = ev.data.params.token,
      value = ev.data.params.value,
    })
  end,
})

-- Polls `predicate(...)` with vim.wait, which keeps Neovim's event loop (LSP messages, timers) running.
-- `predicate_src` is the source of a Lua function expression, e.g. "function(n) return n > 0 end".
function M.wait(timeout_ms, interval_ms, predicate_src, ...)
  local predicate = assert(loadstring("return " .. predicate_src))()
  local args = { n = select("#", ...), ... }
  local ok = vim.wait(timeout_ms, function()
    return predicate(unpack(args, 1, args.n))
  end, interval_ms)
  return ok
end

-- vim.diagnostic.get, reduced to plain fields (user_data holds the raw LSP diagnostic, kept as `lsp`).
function M.diagnostics(bufnr)
  local result = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    table.insert(result, {
      lnum = d.lnum,
      col = d.col,
      end_lnum = d.end_lnum or d.lnum,
      end_col = d.end_col or d.col,
      severity = d.severity,
      message = d.message,
      source = d.source or vim.NIL,
      code = d.code and tostring(d.code) or vim.NIL,
      namespace = vim.diagnostic.get_namespace(d.namespace).name,
    })
  end
  return result
end

return M
