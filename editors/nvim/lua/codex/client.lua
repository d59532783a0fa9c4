-- The codex-lsp client: its configuration, and starting it — vim.lsp.config/vim.lsp.enable on Neovim
-- 0.11+, a FileType autocommand calling vim.lsp.start before that.
local compat = require("codex.compat")
local stream = require("codex.stream")

local M = {}

M.NAME = "codex"

--- The project root for `bufnr` (a root marker's folder, else the file's folder); nil for buffers that
--- are not files (help, terminals, the transcript, URLs), which the server cannot edit.
function M.root(bufnr, markers)
  if vim.bo[bufnr].buftype ~= "" then
    return nil
  end
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == "" or name:match("^%a[%w+.-]*://") then
    return nil
  end
  return vim.fs.root(bufnr, markers) or vim.fs.dirname(name)
end

--- Settings as JSON wants them: an empty table is an object, not an array.
local function object(settings)
  return next(settings) == nil and vim.empty_dict() or settings
end

--- The client configuration (without root_dir) for `options` (resolved setup options);
--- `commands` are the client-side handlers of the server's turn commands (see codex.turns).
function M.config(options, commands)
  local capabilities = vim.tbl_deep_extend("force", vim.lsp.protocol.make_client_capabilities(), {
    experimental = { codex = { streaming = true } },
  })
  return {
    name = M.NAME,
    cmd = options.cmd,
    cmd_env = options.cmd_env,
    filetypes = options.filetypes ~= "*" and options.filetypes or nil,
    init_options = object(options.settings),
    settings = { codex = object(options.settings) },
    capabilities = capabilities,
    handlers = stream.handlers(),
    commands = commands,
  }
end

--- Make the client start for matching buffers, now and from now on.
function M.enable(options, commands, group)
  local config = M.config(options, commands)
  if compat.has_lsp_config() then
    config.root_dir = function(bufnr, on_dir)
      local root = M.root(bufnr, options.root_markers)
      if root then
        on_dir(root)
      end
    end
    vim.lsp.config(M.NAME, config)
    vim.lsp.enable(M.NAME)
    return
  end
  local function start(bufnr)
    local root = M.root(bufnr, options.root_markers)
    if root then
      vim.lsp.start(vim.tbl_extend("force", config, { root_dir = root }), { bufnr = bufnr })
    end
  end
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = options.filetypes == "*" and "*" or options.filetypes,
    desc = "codex: start codex-lsp for this buffer",
    callback = function(ev)
      start(ev.buf)
    end,
  })
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    local filetype = vim.bo[bufnr].filetype
    local wanted = options.filetypes == "*" or vim.tbl_contains(options.filetypes, filetype)
    if vim.api.nvim_buf_is_loaded(bufnr) and filetype ~= "" and wanted then
      start(bufnr)
    end
  end
end

--- The codex client attached to `bufnr` (current buffer by default), else any running one.
function M.get(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  return vim.lsp.get_clients({ bufnr = bufnr, name = M.NAME })[1] or vim.lsp.get_clients({ name = M.NAME })[1]
end

--- Run the server command `command` with the one argument `args` (an object); `on_result` gets the
--- result, an error is shown.
function M.execute(client, command, args, on_result)
  local params = { command = command, arguments = { args or vim.empty_dict() } }
  return compat.request(client, "workspace/executeCommand", params, function(err, result)
    if err then
      vim.notify("Codex: " .. tostring(err.message or err), vim.log.levels.ERROR)
    elseif on_result then
      on_result(result)
    end
  end)
end

--- Whether the codex client is attached to `bufnr`.
function M.attached(client, bufnr)
  return vim.lsp.buf_is_attached(bufnr, client.id)
end

return M
