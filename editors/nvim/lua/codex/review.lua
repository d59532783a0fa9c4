-- Review mode (server setting editMode = "review"): the server holds a turn's changes as a proposal of
-- hunks. The plugin shows the pending proposals as a diff in the codex://review buffer, where each hunk
-- is accepted or rejected with one key, and lets :Codex accept / :Codex reject act on the hunk under
-- the cursor in a file. The server re-anchors hunks by content and applies them; the plugin only says
-- which hunk and shows what it hears (codex/proposal/updated, code lenses).
local client_mod = require("codex.client")

local M = {}

local api = vim.api
local NAME = "codex://review"
local HELP = "a accept · r reject · A apply all · D discard all · ]h [h next/previous hunk · q close"

--- proposalId → the proposal as the server lists it, with `clientId` added.
local proposals = {}
--- The review buffer, and what each of its lines is about: { proposal = id, hunk = id? }.
local view = { buf = nil, at = {} }

local function notify(message, level)
  vim.notify("Codex: " .. message, level or vim.log.levels.INFO)
end

local function pending(hunk)
  return hunk.status == "pending" or hunk.status == "conflicted"
end

local function open_hunks(proposal)
  return vim.tbl_filter(pending, proposal.hunks or {})
end

local execute = client_mod.execute

--- Show the server's lenses (Accept | Reject above each pending hunk) in the proposal's open files:
--- Neovim does not refresh code lenses by itself.
local function refresh_lenses(proposal)
  for _, file in ipairs(proposal.files or {}) do
    local bufnr = vim.fn.bufnr(vim.uri_to_fname(file.uri))
    if bufnr > 0 and api.nvim_buf_is_loaded(bufnr) then
      if #vim.lsp.get_clients({ bufnr = bufnr, name = "codex" }) > 0 then
        pcall(vim.lsp.codelens.refresh, { bufnr = bufnr })
      end
    end
  end
end

local function remember(client_id, proposal)
  if proposal.status == "done" or #open_hunks(proposal) == 0 then
    proposals[proposal.proposalId] = nil
  else
    proposal.clientId = client_id
    proposals[proposal.proposalId] = proposal
  end
end

-- The review buffer ---------------------------------------------------------------------------

local function sorted()
  local list = vim.tbl_values(proposals)
  table.sort(list, function(a, b)
    return a.proposalId < b.proposalId
  end)
  return list
end

local function render_lines()
  local lines, at = {}, {}
  local function add(text, where)
    table.insert(lines, text)
    at[#lines] = where
  end
  local list = sorted()
  if #list == 0 then
    add("No Codex proposal is pending review.", nil)
  end
  for _, proposal in ipairs(list) do
    local whole = { proposal = proposal.proposalId }
    local count = #open_hunks(proposal)
    local hunks = count == 1 and "hunk" or "hunks"
    add(("# Codex proposal %s: %d %s pending"):format(proposal.proposalId, count, hunks), whole)
    add("# " .. HELP, whole)
    add("", whole)
    for _, hunk in ipairs(proposal.hunks or {}) do
      local where = { proposal = proposal.proposalId, hunk = hunk.hunkId }
      if pending(hunk) then
        local conflicted = hunk.status == "conflicted"
        local conflict = conflicted and (" — conflicted: " .. tostring(hunk.conflict)) or ""
        add(("# %s %s%s"):format(hunk.hunkId, hunk.label, conflict), where)
        for _, line in ipairs(vim.split((hunk.diff or ""):gsub("\n$", ""), "\n", { plain = true })) do
          add(line, where)
        end
        add("", where)
      else
        add(("# %s %s — %s"):format(hunk.hunkId, hunk.label, hunk.status), where)
      end
    end
  end
  return lines, at
end

local function buffer()
  if view.buf and api.nvim_buf_is_valid(view.buf) then
    return view.buf
  end
  local buf = api.nvim_create_buf(false, true)
  api.nvim_buf_set_name(buf, NAME)
  vim.bo[buf].bufhidden = "hide"
  vim.bo[buf].filetype = "diff"
  vim.bo[buf].modifiable = false
  local function map(lhs, fn, desc)
    vim.keymap.set("n", lhs, fn, { buffer = buf, desc = desc, nowait = true, silent = true })
  end
  map("a", function()
    M.decide("accept")
  end, "Accept the Codex hunk under the cursor")
  map("r", function()
    M.decide("reject")
  end, "Reject the Codex hunk under the cursor")
  map("A", function()
    M.decide("apply")
  end, "Apply every pending hunk of this Codex proposal")
  map("D", function()
    M.decide("discard")
  end, "Discard this Codex proposal")
  map("]h", function()
    M.jump(1)
  end, "Next Codex hunk")
  map("[h", function()
    M.jump(-1)
  end, "Previous Codex hunk")
  map("q", "<cmd>close<cr>", "Close the Codex review")
  view.buf = buf
  return buf
end

--- Redraw the review buffer (when it exists), keeping the cursor on the hunk it was on if it can.
function M.render()
  if not (view.buf and api.nvim_buf_is_valid(view.buf)) then
    return
  end
  local buf = view.buf
  local wins = vim.fn.win_findbuf(buf)
  local before = {}
  for _, win in ipairs(wins) do
    before[win] = view.at[api.nvim_win_get_cursor(win)[1]]
  end
  local lines, at = render_lines()
  vim.bo[buf].modifiable = true
  api.nvim_buf_set_lines(buf, 0, -1, true, lines)
  vim.bo[buf].modifiable = false
  view.at = at
  for win, where in pairs(before) do
    local target = 1
    for line = 1, #lines do
      local here = at[line]
      if where and here and here.hunk == where.hunk and here.proposal == where.proposal then
        target = line
        break
      end
    end
    api.nvim_win_set_cursor(win, { target, 0 })
  end
end

--- The header lines of the hunks still pending, in order.
local function hunk_lines()
  local found = {}
  for line = 1, api.nvim_buf_line_count(view.buf) do
    local here, above = view.at[line], view.at[line - 1]
    local proposal = here and proposals[here.proposal]
    if here and here.hunk and not (above and above.hunk == here.hunk) and proposal then
      for _, hunk in ipairs(proposal.hunks) do
        if hunk.hunkId == here.hunk and pending(hunk) then
          table.insert(found, line)
        end
      end
    end
  end
  return found
end

--- Move to the next (1) or previous (-1) pending hunk in the review buffer.
function M.jump(direction)
  local row = api.nvim_win_get_cursor(0)[1]
  local lines = hunk_lines()
  if direction < 0 then
    lines = vim.fn.reverse(lines)
  end
  for _, line in ipairs(lines) do
    if (direction > 0 and line > row) or (direction < 0 and line < row) then
      api.nvim_win_set_cursor(0, { line, 0 })
      return
    end
  end
end

--- Show the review buffer and move there (after asking the server for its proposals).
function M.open(client)
  M.fetch(client, function()
    local buf = buffer()
    M.render()
    local win = vim.fn.win_findbuf(buf)[1]
    if win then
      api.nvim_set_current_win(win)
    else
      api.nvim_open_win(buf, true, { split = "below", win = -1 })
    end
    local first = hunk_lines()[1]
    if first then
      api.nvim_win_set_cursor(0, { first, 0 })
    end
  end)
end

-- What the server says ----------------------------------------------------------------------------

--- Ask `client` for its pending proposals; `done` runs once they are known.
function M.fetch(client, done)
  execute(client, "codex.proposals", nil, function(result)
    for id, proposal in pairs(proposals) do
      if proposal.clientId == client.id then
        proposals[id] = nil
      end
    end
    for _, proposal in ipairs((result or {}).proposals or {}) do
      remember(client.id, proposal)
    end
    M.render()
    if done then
      done()
    end
  end)
end

--- codex/proposal/updated: a proposal was held, decided, re-anchored, superseded or restored.
function M.updated(params, ctx)
  remember(ctx.client_id, params)
  M.render()
  refresh_lenses(params)
end

--- The pending proposals (for tests and statuslines): proposalId → proposal.
function M.proposals()
  return proposals
end

-- Deciding ----------------------------------------------------------------------------------------

--- The pending hunk shown at the cursor of the current window: in the review buffer, the hunk under
--- it; in a file, the hunk whose lines hold the cursor. Returns proposal, hunk (or nil).
local function at_cursor()
  local row = api.nvim_win_get_cursor(0)[1]
  local buf = api.nvim_get_current_buf()
  if buf == view.buf then
    local here = view.at[row] or {}
    local proposal = proposals[here.proposal or ""]
    for _, hunk in ipairs(proposal and proposal.hunks or {}) do
      if hunk.hunkId == here.hunk then
        return proposal, hunk
      end
    end
    return proposal, nil
  end
  local uri, line = vim.uri_from_bufnr(buf), row - 1
  local function holds(hunk)
    local range = hunk.range ~= vim.NIL and hunk.range or nil
    local first, last = range and range.start.line, range and range["end"].line
    return hunk.uri == uri and range ~= nil and line >= first and (line < last or line == first)
  end
  for _, proposal in ipairs(sorted()) do
    for _, hunk in ipairs(open_hunks(proposal)) do
      if holds(hunk) then
        return proposal, hunk
      end
    end
  end
  for _, proposal in ipairs(sorted()) do
    for _, file in ipairs(proposal.files or {}) do
      if file.uri == uri then
        return proposal, nil
      end
    end
  end
end

local function report(result, verb)
  local done = result[verb == "accept" and "accepted" or "rejected"] or {}
  local conflicted = result.conflicted or {}
  if #conflicted > 0 then
    local why = result.message ~= "" and result.message or ("conflicted: " .. table.concat(conflicted, ", "))
    notify(why, vim.log.levels.WARN)
  elseif #done > 0 then
    notify(("%s %s"):format(verb == "accept" and "accepted" or "rejected", table.concat(done, ", ")))
  end
end

local DECISIONS = {
  accept = { command = "codex.acceptHunk", hunk = true, verb = "accept" },
  reject = { command = "codex.rejectHunk", hunk = true, verb = "reject" },
  apply = { command = "codex.applyProposal", hunk = false, verb = "accept" },
  discard = { command = "codex.discardProposal", hunk = false, verb = "reject" },
}

local function send(decision, proposal, hunk)
  local client = vim.lsp.get_client_by_id(proposal.clientId)
  if not client then
    notify("the server that made proposal " .. proposal.proposalId .. " is gone", vim.log.levels.ERROR)
    return
  end
  local args = { proposalId = proposal.proposalId, hunkId = decision.hunk and hunk.hunkId or nil }
  execute(client, decision.command, args, function(result)
    if result.proposal and result.proposal ~= vim.NIL then
      remember(client.id, result.proposal)
    else
      proposals[proposal.proposalId] = nil
    end
    report(result, decision.verb)
    M.render()
  end)
end

--- accept / reject the hunk at the cursor, or apply / discard its proposal (the only pending one
--- when the cursor names none).
function M.decide(name, client)
  local decision = DECISIONS[name]
  local function go()
    local proposal, hunk = at_cursor()
    if decision.hunk and not hunk then
      notify("no pending Codex hunk under the cursor (:Codex review lists them)", vim.log.levels.WARN)
      return
    end
    if not proposal then
      local list = sorted()
      if #list ~= 1 then
        local why = #list == 0 and "no proposal is pending review"
          or "several proposals are pending: use :Codex review"
        notify(why, vim.log.levels.WARN)
        return
      end
      proposal = list[1]
    end
    send(decision, proposal, hunk)
  end
  if client and api.nvim_get_current_buf() ~= view.buf then
    M.fetch(client, go) -- hunks move with the user's edits: ask where they are now
  else
    go()
  end
end

return M
