-- Every source's diagnostics, forwarded to the server.
--
-- Neovim puts only a server's own diagnostics in its code-action requests, so codex-lsp would never see
-- ruff's or any other linter's. On DiagnosticChanged the plugin sends all of the buffer's diagnostics,
-- every namespace, with codex/didChangeDiagnostics {uri, version, diagnostics} — at once when the
-- buffer was quiet, debounced while they keep changing; the server keeps them for that version and
-- offers "Fix with Codex" on them.
local compat = require("codex.compat")
local positions = require("codex.positions")

local M = {}

local NAME = "codex"
local pending = {}

local SEVERITY = {
  [vim.diagnostic.severity.ERROR] = 1,
  [vim.diagnostic.severity.WARN] = 2,
  [vim.diagnostic.severity.INFO] = 3,
  [vim.diagnostic.severity.HINT] = 4,
}

--- One vim.Diagnostic as an LSP diagnostic, its range in `encoding` (the columns Neovim stores are
--- bytes; the LSP diagnostic a peer server sent may be in another encoding, so it is not reused).
function M.to_lsp(bufnr, d, encoding)
  local lsp = (d.user_data or {}).lsp or {}
  local result = {
    range = positions.range(bufnr, d.lnum, d.col, d.end_lnum or d.lnum, d.end_col or d.col, encoding),
    severity = SEVERITY[d.severity],
    message = d.message,
    source = d.source,
    code = d.code,
    codeDescription = lsp.codeDescription,
  }
  if d._tags then
    local tags = {}
    if d._tags.unnecessary then
      table.insert(tags, 1)
    end
    if d._tags.deprecated then
      table.insert(tags, 2)
    end
    result.tags = #tags > 0 and tags or nil
  end
  return result
end

--- The diagnostics of `bufnr` (every namespace, or those `filter` keeps) as LSP diagnostics.
function M.collect(bufnr, encoding, filter)
  local found = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    if filter == nil or filter(d) then
      table.insert(found, M.to_lsp(bufnr, d, encoding))
    end
  end
  return found
end

--- Per buffer: how many diagnostics were last forwarded, and at which version.
local forwarded = {}

--- Send the buffer's diagnostics to every codex client attached to it, now.
function M.send(bufnr)
  if not vim.api.nvim_buf_is_valid(bufnr) then
    return
  end
  for _, client in ipairs(vim.lsp.get_clients({ bufnr = bufnr, name = NAME })) do
    compat.flush_changes(client, bufnr) -- the version named below must have reached the server
    local version = compat.buf_version(bufnr)
    local found = M.collect(bufnr, client.offset_encoding)
    compat.notify(client, "codex/didChangeDiagnostics", {
      uri = vim.uri_from_bufnr(bufnr),
      version = version,
      diagnostics = found,
    })
    forwarded[bufnr] = { version = version, count = #found }
  end
end

--- How many diagnostics were last forwarded for `bufnr` and at which version ({count, version}, or nil).
function M.forwarded(bufnr)
  return forwarded[bufnr]
end

local function stop(bufnr)
  local entry = pending[bufnr]
  if entry and entry.timer then
    entry.timer:stop()
    entry.timer:close()
    entry.timer = nil
  end
end

--- Forward the buffer's diagnostics soon: at once when nothing was sent in the last `delay` ms, else
--- `delay` ms after the changes stop (a linter publishing on every keystroke is not echoed each time).
function M.schedule(bufnr, delay)
  if #vim.lsp.get_clients({ bufnr = bufnr, name = NAME }) == 0 then
    return
  end
  local entry = pending[bufnr] or { last = nil }
  pending[bufnr] = entry
  local function send()
    entry.last = vim.uv.now()
    M.send(bufnr)
  end
  if not entry.timer and (entry.last == nil or vim.uv.now() - entry.last >= delay) then
    entry.last = vim.uv.now()
    vim.schedule(send)
    return
  end
  entry.timer = entry.timer or assert(vim.uv.new_timer())
  entry.timer:stop()
  entry.timer:start(delay, 0, vim.schedule_wrap(function()
    stop(bufnr)
    send()
  end))
end

--- Forward diagnostics from now on (autocommands in `group`).
function M.setup(group, options)
  local delay = options.diagnostics.debounce
  vim.api.nvim_create_autocmd("DiagnosticChanged", {
    group = group,
    desc = "codex: forward every source's diagnostics to codex-lsp",
    callback = function(ev)
      M.schedule(ev.buf, delay)
    end,
  })
  vim.api.nvim_create_autocmd("LspAttach", {
    group = group,
    desc = "codex: send the diagnostics a buffer already has when codex-lsp attaches",
    callback = function(ev)
      local client = vim.lsp.get_client_by_id(ev.data.client_id)
      if client and client.name == NAME then
        M.schedule(ev.buf, delay)
      end
    end,
  })
  vim.api.nvim_create_autocmd({ "BufWipeout", "BufDelete" }, {
    group = group,
    callback = function(ev)
      stop(ev.buf)
      pending[ev.buf], forwarded[ev.buf] = nil, nil
    end,
  })
end

return M
