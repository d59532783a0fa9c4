-- Turns: every codex.ask / codex.fixDiagnostics request goes through here, whether :Codex or a code
-- action ("Fix with Codex", "explain") started it, so each is written to the transcript, can be
-- cancelled, and reports how it ended. :Codex ask continues the conversation of the previous ask (its
-- thread) until :Codex new or :Codex threads picks another.
local client_mod = require("codex.client")
local compat = require("codex.compat")
local stream = require("codex.stream")
local transcript = require("codex.transcript")

local M = {}

local state = { options = { transcript = { open = "ask" } }, running = {}, thread = {} }

function M.configure(options)
  state.options = options
end

local function notify(message, level)
  vim.notify("Codex: " .. message, level or vim.log.levels.INFO)
end
M.notify = notify

--- How many turns this editor has started that have not ended yet.
function M.running()
  return vim.tbl_count(state.running)
end

--- The thread :Codex ask continues for `client` (nil: a new one).
function M.thread(client)
  return state.thread[client.id]
end

function M.set_thread(client, thread_id)
  state.thread[client.id] = thread_id
end

local function finished(key, err, result)
  state.running[key] = nil
  if err then
    transcript.lines("— error: " .. tostring(err.message or err))
    notify(tostring(err.message or err), vim.log.levels.ERROR)
    return
  end
  result = result or {}
  if result.turnId and not stream.completed[result.turnId] then
    transcript.lines(stream.ending(result)) -- ended before the agent ran: no codex/turn/completed came
  end
  stream.completed[result.turnId or ""] = nil
  if result.proposalId and result.proposalId ~= vim.NIL then
    notify(("changes proposed for review (proposal %s): :Codex review"):format(result.proposalId))
  elseif result.status == "interrupted" then
    notify("turn interrupted")
  elseif result.status == "completed" then
    local changed = result.changedFiles or {}
    notify(#changed > 0 and ("done, changed " .. table.concat(changed, ", ")) or "done")
  end -- a failed turn: the server shows the error itself (window/showMessage)
end

local LABEL = { ["codex.ask"] = "Ask", ["codex.fixDiagnostics"] = "Fix" }

--- Run `command` (codex.ask or codex.fixDiagnostics) with `args` on `client`; `opts.title` is what
--- the transcript calls it, `opts.bufnr` the buffer it is about.
function M.start(client, command, args, opts)
  opts = opts or {}
  local title = opts.title or args.prompt or "the problems in this file"
  transcript.turn(LABEL[command] or command, title)
  local open = state.options.transcript.open
  if open == "always" or (open == "ask" and command == "codex.ask") then
    transcript.open()
  end
  local key = {}
  local params = { command = command, arguments = { args } }
  local ok, request_id = compat.request(client, "workspace/executeCommand", params, function(err, result)
    finished(key, err, result)
    if not err and command == "codex.ask" and result and result.threadId and opts.follow_thread then
      state.thread[client.id] = result.threadId
    end
  end, opts.bufnr)
  if not ok then
    transcript.lines("— not sent: the server is not running")
    notify("codex-lsp is not running", vim.log.levels.ERROR)
    return
  end
  state.running[key] = { client_id = client.id, request_id = request_id, title = title }
end

--- The client-side handlers of the server's turn commands: a code action the user picks runs here.
function M.commands()
  local function run(command, ctx)
    local client = vim.lsp.get_client_by_id(ctx.client_id)
    if client then
      local title = (command.title or ""):gsub("^Fix with Codex: ", ""):gsub("^Codex: ", "")
      local args = (command.arguments or {})[1] or vim.empty_dict()
      M.start(client, command.command, args, { bufnr = ctx.bufnr, title = title })
    end
  end
  return { ["codex.ask"] = run, ["codex.fixDiagnostics"] = run }
end

--- Interrupt every running turn of `client`.
function M.cancel(client)
  client_mod.execute(client, "codex.interrupt", nil, function(result)
    if #((result or {}).interrupted or {}) == 0 then
      notify("no turn is running")
    end
  end)
end

return M
