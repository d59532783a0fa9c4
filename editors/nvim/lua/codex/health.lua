-- :checkhealth codex — is the server there (and which version), does it find its configuration and a
-- key or the OpenAI sign-in (who, and when its token is refreshed; never a token or a key), and can it
-- reach the model endpoint? The server answers the last three itself (codex.status with probe = true,
-- codex.account): the running codex client is asked, or, when none runs, the configured command is
-- started for the check and shut down after.
local account = require("codex.account")
local compat = require("codex.compat")

local M = {}

local WAIT_MS = 15000
local STATUS = { command = "codex.status", arguments = { { probe = true } } }
local ACCOUNT = { command = "codex.account", arguments = { vim.empty_dict() } }

local function options()
  local ok, codex = pcall(require, "codex")
  local resolved = ok and codex.options() or nil
  return resolved or require("codex.config").resolve({}), resolved ~= nil
end

local function check_neovim()
  local v = vim.version()
  local version = ("%d.%d.%d"):format(v.major, v.minor, v.patch)
  if vim.fn.has("nvim-0.10") == 0 then
    vim.health.error("Neovim " .. version .. " is too old", "codex.nvim needs Neovim 0.10 or later")
  elseif compat.has_lsp_config() then
    vim.health.ok("Neovim " .. version .. " (vim.lsp.config / vim.lsp.enable)")
  else
    vim.health.ok("Neovim " .. version .. " (vim.lsp.start)")
  end
end

--- Start `cmd` on its own, initialize it, ask codex.status and codex.account, shut it down: status,
--- account, server info, error.
local function ask_new_server(opts)
  local state = { exited = false }
  local dispatchers = {
    notification = function() end,
    server_request = function()
      return vim.NIL
    end,
    on_exit = function()
      state.exited = true
    end,
    on_error = function() end,
  }
  local cwd = vim.fn.getcwd()
  local started, rpc = pcall(vim.lsp.rpc.start, opts.cmd, dispatchers, { cwd = cwd, env = opts.cmd_env })
  if not started then
    return nil, nil, tostring(rpc)
  end
  local function call(method, params)
    local reply = {}
    rpc.request(method, params, function(err, result)
      reply = { done = true, err = err, result = result }
    end)
    vim.wait(WAIT_MS, function()
      return reply.done or state.exited
    end, 20)
    if not reply.done then
      return nil, state.exited and "the server exited" or ("no answer to " .. method .. " in time")
    end
    if reply.err then
      return nil, reply.err.message or vim.inspect(reply.err)
    end
    return reply.result
  end
  local settings = next(opts.settings) == nil and vim.empty_dict() or opts.settings
  local init, err = call("initialize", {
    processId = vim.fn.getpid(),
    clientInfo = { name = "Neovim :checkhealth codex" },
    rootUri = vim.uri_from_fname(cwd),
    workspaceFolders = { { uri = vim.uri_from_fname(cwd), name = vim.fs.basename(cwd) } },
    capabilities = vim.empty_dict(),
    initializationOptions = settings,
  })
  local status, signed_in
  if init then
    rpc.notify("initialized", vim.empty_dict())
    status, err = call("workspace/executeCommand", STATUS)
    if status then
      signed_in = call("workspace/executeCommand", ACCOUNT)
    end
    call("shutdown", vim.NIL)
    rpc.notify("exit", vim.NIL)
  end
  vim.wait(2000, function()
    return state.exited
  end, 20)
  if not state.exited then
    rpc.terminate()
  end
  return status, signed_in, init and init.serverInfo, err
end

local function ask_running(client, command)
  local response, err = compat.request_sync(client, "workspace/executeCommand", command, WAIT_MS)
  if not response then
    return nil, err or "no answer in time"
  end
  if response.err then
    return nil, response.err.message
  end
  return response.result
end

local function check_server(opts)
  local program = opts.cmd[1]
  local path = vim.fn.exepath(program)
  if path == "" then
    vim.health.error(("`%s` not found (cmd = %s)"):format(program, vim.inspect(opts.cmd)), {
      "Install codex-lsp (`pip install .` in its repository) so that it is on $PATH",
      'Or point the plugin at it: require("codex").setup({ cmd = { "/path/to/codex-lsp", "--stdio" } })',
    })
    return nil
  end
  vim.health.ok(("`%s` found: %s"):format(program, path))
  local client = vim.lsp.get_clients({ name = "codex" })[1]
  local status, signed_in, info, err
  if client and client.initialized then
    status, err = ask_running(client, STATUS)
    signed_in = status and ask_running(client, ACCOUNT)
    info = client.server_info
  else
    status, signed_in, info, err = ask_new_server(opts)
  end
  if not status then
    vim.health.error("the server did not answer codex.status: " .. tostring(err))
    return nil
  end
  local version = status.version or (info and info.version) or "?"
  local how = client and ("the running client (id %d)"):format(client.id) or "started for this check"
  vim.health.ok(("codex-lsp %s answers (%s)"):format(version, how))
  return status, signed_in
end

local SIGN_IN = {
  ":Codex login: sign in with ChatGPT, entering a code in your browser (works over SSH too)",
  ":Codex login browser: sign in with ChatGPT in a browser on this machine",
  ":Codex login apikey: use an OpenAI API key",
}

--- The key, or the OpenAI sign-in when the provider takes it (`signed_in`: the codex.account answer).
local function check_credentials(status, signed_in)
  if not signed_in or signed_in.usesAccount ~= true then
    if status.keyFound then
      vim.health.ok("API key found (" .. tostring(status.keySource) .. ")")
    else
      vim.health.error("no API key found", {
        "Set the provider's env_key variable, or OPENAI_API_KEY in $CODEX_HOME/auth.json or the environment",
      })
    end
    return
  end
  if signed_in.signedIn and signed_in.mode == "chatgpt" then
    vim.health.ok("signed in with ChatGPT as " .. account.who(signed_in))
    local token = account.token(signed_in)
    if token then
      vim.health.ok(token)
    end
  elseif signed_in.signedIn then
    vim.health.ok("signed in with an API key (" .. tostring(signed_in.source) .. ")")
  else
    local problem = signed_in.problem ~= vim.NIL and signed_in.problem or nil
    vim.health.error(problem or "not signed in", SIGN_IN)
  end
end

local function check_model(status, signed_in)
  if status.configError then
    local advice = "Run `codex-lsp doctor` in a terminal for details"
    vim.health.error("configuration: " .. status.configError, advice)
    return
  end
  local read = "configuration read: provider %s, model %s, %s"
  vim.health.ok(read:format(status.provider, status.model, status.baseUrl))
  check_credentials(status, signed_in)
  local transport = tostring(status.transport)
  if status.reachable then
    vim.health.ok(("%s endpoint reachable (%s ms)"):format(transport, tostring(status.probeMs)))
    if status.probeError then
      vim.health.warn("it answers, but: " .. status.probeError)
    end
  else
    vim.health.error(("%s endpoint not reachable: %s"):format(transport, tostring(status.probeError)), {
      "Check base_url in $CODEX_HOME/config.toml (or the baseUrl setting), the network and any proxy",
    })
  end
end

function M.check()
  vim.health.start("codex.nvim")
  check_neovim()
  local opts, set_up = options()
  if set_up then
    vim.health.ok("require('codex').setup() was called")
  else
    local why = "require('codex').setup() was not called: codex-lsp does not start"
    vim.health.warn(why, "See :help codex-setup")
  end
  vim.health.start("codex-lsp")
  local status, signed_in = check_server(opts)
  if status then
    check_model(status, signed_in)
  end
end

return M
