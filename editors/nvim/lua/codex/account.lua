-- The OpenAI sign-in from the editor: :Codex login, :Codex logout, :Codex account. The server does the
-- work (codex.login, codex.logout, codex.account): it shows the device code and its URL itself
-- (window/showMessage), opens the page where Neovim can (window/showDocument, i.e. vim.ui.open; a machine
-- without a browser only declines) and writes $CODEX_HOME/auth.json as `codex login` does. No token ever
-- reaches the plugin. What the plugin adds: the API key asked without echo, the pending code kept for
-- :Codex account and put in the clipboard, :Codex cancel for a waiting sign-in, and the server's
-- codex/login/started and codex/account/updated as User autocommands (CodexLoginStarted,
-- CodexAccountChanged).
local client_mod = require("codex.client")
local compat = require("codex.compat")

local M = {}

--- :Codex login's methods, as typed → as the server names them.
local METHODS = { device = "device", browser = "browser", apikey = "apiKey" }
M.methods = { "apikey", "browser", "device" }

local HOW = "sign in with :Codex login (a code to enter in your browser), :Codex login browser or "
  .. ":Codex login apikey"

local state = {
  login = nil, -- the codex.login request :Codex login is waiting for: { client_id, request_id }
  pending = nil, -- what the server said of the sign-in waiting for the user (codex/login/started)
}

local function notify(message, level)
  vim.notify("Codex: " .. message, level or vim.log.levels.INFO)
end

local function announce(pattern, data)
  vim.api.nvim_exec_autocmds("User", { pattern = pattern, data = data, modeline = false })
end

local function text(value)
  return (value ~= nil and value ~= vim.NIL and value ~= "") and tostring(value) or nil
end

local function when(seconds, format)
  return os.date(format or "%Y-%m-%d %H:%M", math.floor(seconds))
end

--- Who a ChatGPT sign-in is: "dev@example.com (plan plus, workspace acct-…)".
function M.who(account)
  local details = {}
  if text(account.plan) then
    table.insert(details, "plan " .. account.plan)
  end
  if text(account.accountId) then
    table.insert(details, "workspace " .. account.accountId)
  end
  local who = text(account.email) or "an account without an email"
  return #details > 0 and ("%s (%s)"):format(who, table.concat(details, ", ")) or who
end

--- When a ChatGPT sign-in's access token expires and whether the next request refreshes it first.
function M.token(account)
  local expires, due = tonumber(account.expiresAt), text(account.refreshDue)
  if expires and due then
    return ("access token expires %s: the next request refreshes it first"):format(when(expires))
  elseif expires then
    return ("access token valid until %s (refreshed when it nears its end)"):format(when(expires))
  elseif due then
    return "the next request refreshes the sign-in first"
  end
end

--- The sign-in waiting for the user, as one line.
local function waiting(pending)
  if text(pending.userCode) then
    local expires = tonumber(pending.expiresAt)
    local until_ = expires and (" (until %s)"):format(when(expires, "%H:%M")) or ""
    local line = "signing in: open %s and enter the code %s%s"
    return line:format(pending.verificationUrl, pending.userCode, until_)
  end
  return ("signing in: finish in your browser (%s)"):format(text(pending.authUrl) or "the page did not open")
end

--- The lines :Codex account shows for `account` (a codex.account answer).
function M.describe(account)
  local provider = text(account.provider) or "?"
  local lines
  if account.usesAccount == false then
    local own = text(account.mode) and ("uses its own key (%s)"):format(text(account.source) or "?")
      or (text(account.problem) or "has no key")
    lines = { ("provider %s %s, not the OpenAI sign-in"):format(provider, own) }
  elseif account.usesAccount == nil then
    lines = { "configuration: " .. (text(account.problem) or "not read") }
  elseif account.signedIn and account.mode == "chatgpt" then
    lines = { "signed in with ChatGPT as " .. M.who(account), M.token(account) }
  elseif account.signedIn then
    lines = { ("signed in with an API key (%s)"):format(text(account.source) or "?") }
  else
    lines = { text(account.problem) or "not signed in", not state.pending and HOW or nil }
  end
  if state.pending then
    table.insert(lines, waiting(state.pending))
  end
  return lines
end

-- What the server streams (see codex.stream) ---------------------------------------------------------

--- codex/login/started: keep the code for :Codex account, put it in the clipboard (where there is one).
function M.started(params)
  state.pending = params
  local code = text(params.userCode)
  if code and vim.fn.has("clipboard") == 1 and pcall(vim.fn.setreg, "+", code) then
    notify("the code is in the clipboard: paste it on the sign-in page")
  end
  announce("CodexLoginStarted", params)
end

--- codex/account/updated: a sign-in ended or changed.
function M.updated(params)
  state.pending = nil
  announce("CodexAccountChanged", params.account or {})
end

-- Commands -------------------------------------------------------------------------------------------

local function finished(login, err, result)
  if state.login ~= login then
    return -- cancelled, or replaced by a newer :Codex login (the server cancels the older one)
  end
  state.login, state.pending = nil, nil
  if err then
    notify(tostring(err.message or err), vim.log.levels.ERROR)
    return
  end
  result = result or {}
  local account = result.account or {}
  if result.status == "cancelled" then
    notify("sign-in cancelled")
  elseif result.status == "signedIn" and account.usesAccount == false then
    local why = "signed in, but provider %s does not use the OpenAI sign-in (it has its own key)"
    notify(why:format(text(account.provider) or "?"), vim.log.levels.WARN)
  end -- signed in or failed: the server says so itself (window/showMessage)
end

--- :Codex login [method]: sign `client`'s server in; device (the default), browser or apikey.
function M.login(client, method)
  local wire = METHODS[method or "device"]
  if not wire then
    local unknown = "unknown sign-in method %s; try device, browser or apikey"
    notify(unknown:format(vim.inspect(method)), vim.log.levels.ERROR)
    return
  end
  local args = { method = wire }
  if wire == "apiKey" then
    local key = vim.trim(vim.fn.inputsecret("OpenAI API key: "))
    if key == "" then
      notify("no key entered: not signed in")
      return
    end
    args.apiKey = key
  end
  local login = { client_id = client.id }
  local params = { command = "codex.login", arguments = { args } }
  local ok, request_id = compat.request(client, "workspace/executeCommand", params, function(err, result)
    finished(login, err, result)
  end)
  if ok then
    login.request_id = request_id
    state.login = login
  else
    notify("codex-lsp is not running", vim.log.levels.ERROR)
  end
end

--- Cancel the sign-in :Codex login is waiting for; whether there was one.
function M.cancel()
  local login = state.login
  if not login then
    return false
  end
  state.login, state.pending = nil, nil
  local client = vim.lsp.get_client_by_id(login.client_id)
  if client and login.request_id then
    compat.cancel_request(client, login.request_id)
  end
  notify("sign-in cancelled")
  return true
end

--- :Codex logout: the server revokes the sign-in and deletes auth.json (and says so).
function M.logout(client)
  client_mod.execute(client, "codex.logout")
end

--- :Codex account: who the model requests are signed in as, or why none can be sent and how to sign in.
function M.show(client)
  client_mod.execute(client, "codex.account", nil, function(account)
    notify(table.concat(M.describe(account or {}), "\n"))
  end)
end

return M
