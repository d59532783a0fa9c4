-- What differs between Neovim 0.10 and 0.11, in one place: client methods (0.11 made them methods and
-- deprecated the dot calls) and position conversion (0.11 changed vim.str_utfindex/str_byteindex).
local M = {}

M.nvim_011 = vim.fn.has("nvim-0.11") == 1

--- Whether this Neovim configures servers with vim.lsp.config/vim.lsp.enable (0.11+).
function M.has_lsp_config()
  return type(vim.lsp.config) ~= "nil" and type(vim.lsp.enable) == "function"
end

function M.request(client, method, params, handler, bufnr)
  if M.nvim_011 then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

function M.request_sync(client, method, params, timeout_ms, bufnr)
  if M.nvim_011 then
    return client:request_sync(method, params, timeout_ms, bufnr)
  end
  return client.request_sync(method, params, timeout_ms, bufnr)
end

function M.cancel_request(client, id)
  if M.nvim_011 then
    return client:cancel_request(id)
  end
  return client.cancel_request(id)
end

function M.notify(client, method, params)
  if M.nvim_011 then
    return client:notify(method, params)
  end
  return client.notify(method, params)
end

--- The index of byte `col` of `line` in `encoding` units (what an LSP position's character is).
function M.char_index(line, col, encoding)
  col = math.max(0, math.min(col, #line))
  if encoding == "utf-8" then
    return col
  end
  if M.nvim_011 then
    return vim.str_utfindex(line, encoding, col, false)
  end
  local ok, utf32, utf16 = pcall(vim.str_utfindex, line, col)
  if not ok then
    return col
  end
  return encoding == "utf-16" and utf16 or utf32
end

--- A buffer's text version as its language servers know it (the `version` of didChange).
function M.buf_version(bufnr)
  return vim.lsp.util.buf_versions[bufnr] or 0
end

--- Send the buffer's pending didChange to `client` now (Neovim debounces them): a notification that
--- names a version must not overtake the change that made it. Best effort: the module is internal.
function M.flush_changes(client, bufnr)
  local ok, changetracking = pcall(require, "vim.lsp._changetracking")
  if ok and type(changetracking.flush) == "function" then
    pcall(changetracking.flush, client, bufnr)
  end
end

return M
