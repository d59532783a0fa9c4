-- The options of require("codex").setup(), their defaults and their checks (see :help codex-options).
local M = {}

M.defaults = {
  -- How to start the server; it must speak LSP on stdio.
  cmd = { "codex-lsp", "--stdio" },
  -- Extra environment for the server process (e.g. { CODEX_HOME = "~/.codex-work" }).
  cmd_env = nil,
  -- Filetypes the server attaches to: "*" for every file, or a list such as { "python", "lua" }.
  filetypes = "*",
  -- Files or folders marking a project root (the server's workspace folder); else the file's folder.
  root_markers = { ".git" },
  -- Server settings (model, provider, baseUrl, transport, reasoningEffort, editMode, shell,
  -- approvalPolicy), sent as initializationOptions and as the `codex` section of
  -- workspace/configuration. Unset keys come from $CODEX_HOME/config.toml.
  settings = {},
  -- Global mappings: false (none), true (the defaults below), or a table naming some of them.
  keymaps = false,
  -- Forward every source's diagnostics to the server so "Fix with Codex" sees them all.
  diagnostics = { forward = true, debounce = 150 },
  -- The transcript: open it on "ask" turns, on "always" (every turn, fixes included) or "never";
  -- where ("right", "bottom" or "tab") and how wide or tall (columns or lines).
  transcript = { open = "ask", position = "right", size = 60 },
}

M.default_keymaps = {
  ask = "<leader>ca",
  fix = "<leader>cf",
  cancel = "<leader>cx",
  transcript = "<leader>ct",
  accept = "<leader>cy",
  reject = "<leader>cn",
}

local function one_of(values)
  return function(value)
    return vim.tbl_contains(values, value), "one of " .. table.concat(values, ", ")
  end
end

local function list_of_strings(value)
  if type(value) ~= "table" then
    return false
  end
  for _, item in ipairs(value) do
    if type(item) ~= "string" then
      return false
    end
  end
  return true
end

local function check_filetypes(value)
  return value == "*" or list_of_strings(value), '"*" or a list of filetypes'
end

local function check_keymaps(value)
  if type(value) == "boolean" then
    return true
  end
  if type(value) ~= "table" then
    return false, "true, false or a table of mappings"
  end
  for name, lhs in pairs(value) do
    if M.default_keymaps[name] == nil then
      return false, "mappings named " .. table.concat(vim.tbl_keys(M.default_keymaps), ", ")
    end
    if lhs ~= false and type(lhs) ~= "string" then
      return false, "a key sequence or false for " .. name
    end
  end
  return true
end

--- Checks one table of options against `spec` ({name = {check, what}}); returns an error or nil.
local function check(prefix, options, spec)
  for name, value in pairs(options) do
    local rule = spec[name]
    if rule == nil then
      return ("unknown option %s%s"):format(prefix, name)
    end
    local ok, what = rule(value)
    if not ok then
      local shown = vim.inspect(value, { newline = " ", indent = "" })
      return ("option %s%s: expected %s, got %s"):format(prefix, name, what, shown)
    end
  end
end

local function typed(kind, what)
  return function(value)
    return type(value) == kind, what or kind
  end
end

local SPEC = {
  cmd = function(v)
    return list_of_strings(v) and #v > 0, "a non-empty list of strings"
  end,
  cmd_env = typed("table"),
  filetypes = check_filetypes,
  root_markers = function(v)
    return list_of_strings(v), "a list of file names"
  end,
  settings = typed("table"),
  keymaps = check_keymaps,
  diagnostics = typed("table"),
  transcript = typed("table"),
}
local DIAGNOSTICS = {
  forward = typed("boolean"),
  debounce = function(v)
    return type(v) == "number" and v >= 0, "a number of milliseconds"
  end,
}
local TRANSCRIPT = {
  open = one_of({ "ask", "always", "never" }),
  position = one_of({ "right", "bottom", "tab" }),
  size = function(v)
    return type(v) == "number" and v > 0, "a positive number"
  end,
}

--- The defaults overridden by `options`; errors with a one-line message on a bad option.
function M.resolve(options)
  options = options or {}
  local problem = check("", options, SPEC)
    or check("diagnostics.", options.diagnostics or {}, DIAGNOSTICS)
    or check("transcript.", options.transcript or {}, TRANSCRIPT)
  if problem then
    error("codex.setup: " .. problem, 0)
  end
  local resolved = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), options)
  -- Lists replace the default rather than merging with it index by index.
  for _, name in ipairs({ "cmd", "filetypes", "root_markers" }) do
    if options[name] ~= nil then
      resolved[name] = vim.deepcopy(options[name])
    end
  end
  if options.settings ~= nil then
    resolved.settings = vim.deepcopy(options.settings)
  end
  return resolved
end

--- The mappings to define: name → lhs (none when keymaps is false).
function M.keymaps(options)
  if options.keymaps == true then
    return vim.deepcopy(M.default_keymaps)
  end
  if type(options.keymaps) ~= "table" then
    return {}
  end
  local maps = {}
  for name, lhs in pairs(options.keymaps) do
    if lhs then
      maps[name] = lhs
    end
  end
  return maps
end

return M
