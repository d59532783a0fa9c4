-- :Codex {subcommand} [args]: ask, fix, cancel, status, threads, new, transcript, the review-mode
-- ones (review, accept, reject, apply, discard) and the sign-in ones (login, logout, account). Each
-- forwards {uri, version, range, prompt} and the diagnostics in view to the server's commands; the
-- server does the work.
local account = require("codex.account")
local client_mod = require("codex.client")
local compat = require("codex.compat")
local diagnostics = require("codex.diagnostics")
local positions = require("codex.positions")
local review = require("codex.review")
local transcript = require("codex.transcript")
local turns = require("codex.turns")

local M = {}
local notify = turns.notify

--- The codex client for the current buffer, or nil after saying why there is none.
local function need_client(bufnr)
  local client = client_mod.get(bufnr)
  if not client then
    local why = "codex-lsp is not running: open a file it attaches to (see :help codex-setup)"
    notify(why, vim.log.levels.ERROR)
  end
  return client
end

--- {uri, version} of `bufnr` for `client`, its pending changes sent first (nil if not attached).
local function document(client, bufnr)
  if not client_mod.attached(client, bufnr) then
    return nil
  end
  compat.flush_changes(client, bufnr)
  return { uri = vim.uri_from_bufnr(bufnr), version = compat.buf_version(bufnr) }
end

local execute = client_mod.execute

--- The selection a ranged :Codex names: the visual selection when the range came from it (characters
--- for v, whole lines otherwise), as 0-based rows and byte columns.
local function selection(opts, bufnr)
  local start, finish = vim.fn.getpos("'<"), vim.fn.getpos("'>")
  local line2 = vim.api.nvim_buf_get_lines(bufnr, opts.line2 - 1, opts.line2, true)[1]
  if vim.fn.visualmode() == "v" and start[2] == opts.line1 and finish[2] == opts.line2 then
    local last = vim.api.nvim_buf_get_lines(bufnr, finish[2] - 1, finish[2], true)[1]
    local width = #vim.fn.strcharpart(last:sub(finish[3]), 0, 1)
    return opts.line1 - 1, start[3] - 1, opts.line2 - 1, math.min(finish[3] - 1 + width, #last)
  end
  return opts.line1 - 1, 0, opts.line2 - 1, #line2
end

local function overlaps_rows(d, first, last)
  return d.lnum <= last and (d.end_lnum or d.lnum) >= first
end

function M.ask(opts, words)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = need_client(bufnr)
  if not client then
    return
  end
  local first, last = vim.fn.line("w0") - 1, vim.fn.line("w$") - 1
  local rng
  local doc = document(client, bufnr)
  if doc and opts.range > 0 then
    local sr, sc, er, ec = selection(opts, bufnr)
    rng = positions.range(bufnr, sr, sc, er, ec, client.offset_encoding)
    first, last = sr, er
  end
  local function go(prompt)
    if not prompt or prompt:match("^%s*$") then
      return
    end
    local args = { prompt = prompt, threadId = turns.thread(client) }
    if doc then
      args.uri, args.version, args.range = doc.uri, doc.version, rng
      args.diagnostics = diagnostics.collect(bufnr, client.offset_encoding, function(d)
        return overlaps_rows(d, first, last)
      end)
    end
    turns.start(client, "codex.ask", args, { bufnr = bufnr, title = prompt, follow_thread = true })
  end
  local prompt = table.concat(words, " ")
  if prompt == "" then
    vim.ui.input({ prompt = "Ask Codex: " }, go)
  else
    go(prompt)
  end
end

local function covers(d, row, col)
  local end_lnum, end_col = d.end_lnum or d.lnum, d.end_col or d.col
  local after_start = row > d.lnum or (row == d.lnum and col >= d.col)
  local before_end = row < end_lnum or (row == end_lnum and col <= end_col)
  return after_start and before_end
end

--- The diagnostics :Codex fix acts on: those under the cursor, else those on its line, else the
--- file's (all of the file's with `whole`).
local function to_fix(bufnr, encoding, whole)
  local row, col = unpack(vim.api.nvim_win_get_cursor(0))
  row = row - 1
  local filters = {
    function(d)
      return covers(d, row, col)
    end,
    function(d)
      return overlaps_rows(d, row, row)
    end,
  }
  if not whole then
    for _, filter in ipairs(filters) do
      local found = diagnostics.collect(bufnr, encoding, filter)
      if #found > 0 then
        return found, false
      end
    end
  end
  return diagnostics.collect(bufnr, encoding), true
end

function M.fix(_, words)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = need_client(bufnr)
  if not client then
    return
  end
  local doc = document(client, bufnr)
  if not doc then
    notify("this buffer is not a file codex-lsp has open", vim.log.levels.ERROR)
    return
  end
  local found, whole = to_fix(bufnr, client.offset_encoding, words[1] == "file")
  if #found == 0 then
    notify("no diagnostics to fix in this file")
    return
  end
  local title = whole and ("%d problem(s) in %s"):format(#found, vim.fn.expand("%:t")) or found[1].message
  doc.diagnostics = found
  turns.start(client, "codex.fixDiagnostics", doc, { bufnr = bufnr, title = title })
end

function M.cancel()
  if account.cancel() and turns.running() == 0 then
    return -- the waiting sign-in was what ran
  end
  local clients = vim.lsp.get_clients({ name = client_mod.NAME })
  if #clients == 0 then
    notify("no turn is running")
  end
  for _, client in ipairs(clients) do
    turns.cancel(client)
  end
end

--- How the model requests are authorized: the ChatGPT sign-in, a key, or nothing yet.
local function credentials(status)
  local signed_in = status.account or {}
  if signed_in.mode == "chatgpt" then
    local problem = signed_in.problem
    if problem ~= nil and problem ~= vim.NIL then
      return "ChatGPT sign-in unusable: " .. tostring(problem)
    end
    return "signed in with ChatGPT as " .. account.who(signed_in)
  end
  if status.keyFound then
    return "key found (" .. tostring(status.keySource) .. ")"
  end
  return "no key found, not signed in (see :Codex account)"
end

local function describe_status(status)
  local lines = { ("codex-lsp %s"):format(status.version or "?") }
  if status.configError then
    table.insert(lines, "configuration: " .. status.configError)
  else
    table.insert(lines, ("provider %s, model %s, %s"):format(status.provider, status.model, status.baseUrl))
    table.insert(lines, credentials(status))
    table.insert(lines, ("transport %s (%s)"):format(status.transport, status.connection))
  end
  local running = #(status.runningTurns or {})
  table.insert(lines, ("edit mode %s, %d turn(s) running"):format(status.editMode or "auto", running))
  return table.concat(lines, "\n")
end

function M.status()
  local client = need_client()
  if client then
    execute(client, "codex.status", nil, function(status)
      notify(describe_status(status))
    end)
  end
end

function M.threads()
  local client = need_client()
  if not client then
    return
  end
  execute(client, "codex.threads", nil, function(result)
    local threads = result.threads or {}
    if #threads == 0 then
      notify("no threads yet")
      return
    end
    local current = turns.thread(client)
    vim.ui.select(threads, {
      prompt = "Continue which Codex thread?",
      format_item = function(t)
        local mark = t.threadId == current and "* " or "  "
        local title = t.title ~= "" and t.title or t.threadId
        return ("%s%s (%d turn(s), %s)"):format(mark, title, t.turns, t.updatedAt)
      end,
    }, function(choice)
      if choice then
        turns.set_thread(client, choice.threadId)
        notify("asks continue thread " .. (choice.title ~= "" and choice.title or choice.threadId))
      end
    end)
  end)
end

function M.new()
  local bufnr = vim.api.nvim_get_current_buf()
  local client = need_client(bufnr)
  if not client then
    return
  end
  local doc = document(client, bufnr)
  execute(client, "codex.newThread", doc and { uri = doc.uri } or nil, function(result)
    turns.set_thread(client, result.threadId)
    notify("new thread " .. result.threadId)
  end)
end

function M.transcript()
  transcript.toggle()
end

function M.review()
  local client = need_client()
  if client then
    review.open(client)
  end
end

function M.login(_, words)
  if #words > 1 then
    notify("usage: :Codex login [device|browser|apikey] (apikey asks for the key)", vim.log.levels.ERROR)
    return
  end
  local client = need_client()
  if client then
    account.login(client, words[1])
  end
end

function M.logout()
  local client = need_client()
  if client then
    account.logout(client)
  end
end

function M.account()
  local client = need_client()
  if client then
    account.show(client)
  end
end

local function decide(name)
  return function()
    local client = client_mod.get()
    review.decide(name, client)
  end
end

M.subcommands = {
  review = M.review,
  accept = decide("accept"),
  reject = decide("reject"),
  apply = decide("apply"),
  discard = decide("discard"),
  ask = M.ask,
  fix = M.fix,
  cancel = M.cancel,
  status = M.status,
  threads = M.threads,
  new = M.new,
  transcript = M.transcript,
  login = M.login,
  logout = M.logout,
  account = M.account,
}

function M.run(opts)
  local words = vim.deepcopy(opts.fargs)
  local name = table.remove(words, 1)
  local handler = name and M.subcommands[name]
  if not handler then
    local names = vim.tbl_keys(M.subcommands)
    table.sort(names)
    local message = "unknown subcommand %s; try one of: %s"
    notify(message:format(vim.inspect(name or ""), table.concat(names, ", ")), vim.log.levels.ERROR)
    return
  end
  handler(opts, words)
end

function M.complete(arglead, cmdline)
  local words = vim.split((cmdline:gsub("^%s*%S+%s*", "")), "%s+")
  local candidates
  if #words <= 1 then
    candidates = vim.tbl_keys(M.subcommands)
  elseif words[1] == "fix" and #words == 2 then
    candidates = { "file" }
  elseif words[1] == "login" and #words == 2 then
    candidates = vim.deepcopy(account.methods)
  else
    return {}
  end
  table.sort(candidates)
  return vim.tbl_filter(function(name)
    return vim.startswith(name, arglead)
  end, candidates)
end

--- Define :Codex.
function M.setup()
  vim.api.nvim_create_user_command("Codex", M.run, {
    nargs = "*",
    range = true,
    complete = M.complete,
    desc = "Codex: ask, fix, cancel, status, threads, new, transcript, review, login, logout, account",
  })
end

return M
