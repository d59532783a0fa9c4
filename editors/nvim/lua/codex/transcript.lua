-- The transcript: one scratch buffer (codex://transcript) where each turn is written as it streams —
-- the request, the model's reasoning summary and answer as they arrive, plans, edited files, commands,
-- and how the turn ended. Text is appended only; windows showing it (other than the current one)
-- follow the end.
local api = vim.api

local M = {}

local NAME = "codex://transcript"
local state = {
  buf = nil,
  empty = true, -- the buffer holds only the empty line a new buffer has
  streaming = nil, -- the block (item id) whose text ends the buffer
  last = nil, -- what the last lines were: "text" or "list"
  options = { position = "right", size = 60 },
}

function M.configure(options)
  state.options = options
end

--- The transcript buffer (created on first use).
function M.buffer()
  if state.buf and api.nvim_buf_is_valid(state.buf) then
    return state.buf
  end
  local buf = api.nvim_create_buf(false, true)
  api.nvim_buf_set_name(buf, NAME)
  vim.bo[buf].bufhidden = "hide"
  vim.bo[buf].filetype = "markdown"
  vim.bo[buf].modifiable = false
  vim.keymap.set("n", "q", "<cmd>close<cr>", { buffer = buf, desc = "Close the Codex transcript" })
  state.buf, state.empty, state.streaming, state.last = buf, true, nil, nil
  return buf
end

--- The transcript's text (lines joined by newlines).
function M.text()
  return table.concat(api.nvim_buf_get_lines(M.buffer(), 0, -1, true), "\n")
end

local function edit(buf, fn)
  vim.bo[buf].modifiable = true
  local ok, err = pcall(fn)
  vim.bo[buf].modifiable = false
  if not ok then
    error(err)
  end
end

local function follow(buf)
  local last = api.nvim_buf_line_count(buf)
  local current = api.nvim_get_current_win()
  for _, win in ipairs(api.nvim_list_wins()) do
    if win ~= current and api.nvim_win_get_buf(win) == buf then
      api.nvim_win_set_cursor(win, { last, 0 })
    end
  end
end

--- Append `lines`, a paragraph of `kind` ("text" or "list"): a blank line separates kinds (markdown
--- needs one between a paragraph and a list).
local function add_lines(lines, kind)
  local buf = M.buffer()
  if kind and state.last and state.last ~= kind then
    table.insert(lines, 1, "")
  end
  state.last = kind
  edit(buf, function()
    if state.empty then
      api.nvim_buf_set_lines(buf, 0, -1, true, lines)
      state.empty = false
    else
      api.nvim_buf_set_lines(buf, -1, -1, true, lines)
    end
  end)
  follow(buf)
end

local function split(text)
  return vim.split((text:gsub("\r\n", "\n")), "\n", { plain = true })
end

--- Append whole lines (`text` may hold several); ends any streamed block.
function M.lines(text)
  state.streaming = nil
  add_lines(split(text), "list")
end

--- Start a turn's section.
function M.turn(label, title)
  state.streaming = nil
  local header = { ("## %s: %s"):format(label, (title:gsub("\n", " "))), "" }
  if not state.empty then
    table.insert(header, 1, "")
  end
  state.last = nil
  add_lines(header)
end

--- Append `delta` to the block `key` (an item id): it continues the last line while that block is the
--- last thing written, else it starts on a new line. Every line of the block starts with `prefix`.
function M.stream(key, delta, prefix)
  prefix = prefix or ""
  local pieces = split(delta)
  for i = 2, #pieces do
    pieces[i] = prefix .. pieces[i]
  end
  if state.streaming ~= key then
    state.streaming = key
    pieces[1] = prefix .. pieces[1]
    if state.last == "text" then
      table.insert(pieces, 1, "")
    end
    add_lines(pieces, "text")
    return
  end
  local buf = M.buffer()
  local last = api.nvim_buf_line_count(buf)
  pieces[1] = api.nvim_buf_get_lines(buf, last - 1, last, true)[1] .. pieces[1]
  edit(buf, function()
    api.nvim_buf_set_lines(buf, last - 1, last, true, pieces)
  end)
  follow(buf)
end

--- Whether `key` is the block being streamed (its text ends the transcript).
function M.streaming(key)
  return state.streaming == key
end

--- The window showing the transcript in the current tab, if any.
function M.window()
  local buf = M.buffer()
  for _, win in ipairs(api.nvim_tabpage_list_wins(0)) do
    if api.nvim_win_get_buf(win) == buf then
      return win
    end
  end
end

--- Show the transcript (without moving the cursor there, except in its own tab); returns its window.
function M.open()
  local buf = M.buffer()
  local win = M.window()
  if win then
    return win
  end
  local options = state.options
  if options.position == "tab" then
    vim.cmd("tab sbuffer " .. buf)
    win = api.nvim_get_current_win()
  else
    local config = { split = options.position == "bottom" and "below" or "right", win = -1 }
    if options.position == "bottom" then
      config.height = options.size
    else
      config.width = options.size
    end
    win = api.nvim_open_win(buf, false, config)
  end
  vim.wo[win].wrap = true
  vim.wo[win].linebreak = true
  vim.wo[win].number = false
  vim.wo[win].relativenumber = false
  api.nvim_win_set_cursor(win, { api.nvim_buf_line_count(buf), 0 })
  return win
end

--- Open the transcript, or close it when it is shown.
function M.toggle()
  local win = M.window()
  if win and #api.nvim_tabpage_list_wins(0) > 1 then
    api.nvim_win_close(win, false)
  else
    M.open()
  end
end

return M
