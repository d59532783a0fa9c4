-- Buffer positions (0-based line, byte column) ⇄ LSP positions in a client's position encoding.
local compat = require("codex.compat")

local M = {}

local function line_text(bufnr, row)
  return vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ""
end

--- The LSP position of byte `col` on line `row` of `bufnr` (columns past the end stay past it: a
--- diagnostic may end at the line's end or on the line after the last).
function M.position(bufnr, row, col, encoding)
  local line = line_text(bufnr, row)
  if col > #line then
    return { line = row, character = compat.char_index(line, #line, encoding) + (col - #line) }
  end
  return { line = row, character = compat.char_index(line, col, encoding) }
end

function M.range(bufnr, start_row, start_col, end_row, end_col, encoding)
  return {
    start = M.position(bufnr, start_row, start_col, encoding),
    ["end"] = M.position(bufnr, end_row, end_col, encoding),
  }
end

return M
