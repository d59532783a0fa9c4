-- The codex/* notifications the server streams (the client declares experimental.codex): a turn's
-- events, rendered into the transcript as they arrive and announced as User autocommands
-- (CodexTurnStarted, CodexTurnCompleted) for statuslines and other plugins, review mode's
-- codex/proposal/updated (see codex.review), and the sign-in's codex/login/started and
-- codex/account/updated (see codex.account).
local transcript = require("codex.transcript")

local M = {}

--- Turns whose codex/turn/completed arrived (the command's own result then adds nothing).
M.completed = {}
--- Items whose text arrived as deltas (their item/completed then adds nothing).
local streamed = {}

local function announce(pattern, data)
  vim.api.nvim_exec_autocmds("User", { pattern = pattern, data = data, modeline = false })
end

local function paths(changes)
  local names = {}
  for _, change in ipairs(changes or {}) do
    local name = change.path
    if change.moveTo and change.moveTo ~= vim.NIL then
      name = name .. " → " .. change.moveTo
    end
    table.insert(names, name)
  end
  return table.concat(names, ", ")
end

local FILE_STATUS = {
  applied = "edited",
  held = "proposed for review",
  declined = "declined",
  failed = "failed to edit",
  inProgress = "editing",
}
local PLAN_MARK = { completed = "[x]", in_progress = "[~]", pending = "[ ]" }

local function text(value)
  return (value ~= nil and value ~= vim.NIL) and tostring(value) or ""
end

--- How a turn ended, as the transcript's last line for it.
function M.ending(result)
  local line = "— " .. text(result.status)
  local changed = result.changedFiles or {}
  if #changed > 0 then
    line = line .. " · changed " .. table.concat(changed, ", ")
  end
  if text(result.proposalId) ~= "" then
    line = line .. " · proposal " .. result.proposalId .. " awaits review (:Codex review)"
  end
  if text(result.error) ~= "" then
    line = line .. ": " .. result.error
  end
  return line
end

local function completed_item(item)
  if item.type == "agentMessage" or item.type == "reasoning" then
    local body = item.type == "agentMessage" and item.text or item.summary
    if not streamed[item.id] and text(body) ~= "" then
      transcript.stream(item.id, body, item.type == "reasoning" and "> " or "")
    end
    streamed[item.id] = nil
  elseif item.type == "fileChange" then
    local message = text(item.message) ~= "" and (" (" .. item.message .. ")") or ""
    local status = FILE_STATUS[item.status] or item.status
    transcript.lines(("- %s %s%s"):format(status, paths(item.changes), message))
  elseif item.type == "commandExecution" then
    local how = item.status == "completed" and ("exit " .. text(item.exitCode)) or item.status
    transcript.lines(("  %s"):format(how))
  end
end

local handlers = {
  ["codex/turn/started"] = function(params)
    announce("CodexTurnStarted", params)
  end,
  ["codex/item/agentMessage/delta"] = function(params)
    streamed[params.itemId] = true
    transcript.stream(params.itemId, params.delta, "")
  end,
  ["codex/item/reasoning/summaryDelta"] = function(params)
    streamed[params.itemId] = true
    transcript.stream(params.itemId, params.delta, "> ")
  end,
  ["codex/item/completed"] = function(params)
    completed_item(params.item or {})
  end,
  ["codex/turn/plan/updated"] = function(params)
    local lines = { "**Plan**" .. (text(params.explanation) ~= "" and (": " .. params.explanation) or "") }
    for _, step in ipairs(params.plan or {}) do
      table.insert(lines, ("- %s %s"):format(PLAN_MARK[step.status] or "[ ]", step.step))
    end
    transcript.lines(table.concat(lines, "\n"))
  end,
  ["codex/turn/command/started"] = function(params)
    transcript.lines("- $ " .. table.concat(params.command or {}, " "))
  end,
  ["codex/turn/transport"] = function(params)
    transcript.lines("- " .. text(params.message))
  end,
  ["codex/proposal/updated"] = function(params, ctx)
    require("codex.review").updated(params, ctx)
  end,
  ["codex/login/started"] = function(params)
    require("codex.account").started(params)
  end,
  ["codex/account/updated"] = function(params)
    require("codex.account").updated(params)
  end,
  ["codex/turn/completed"] = function(params)
    M.completed[params.turnId] = true
    transcript.lines(M.ending(params))
    announce("CodexTurnCompleted", params)
  end,
}
local QUIET = { "codex/item/started", "codex/turn/fileChange/proposed", "codex/turn/command/finished" }

--- The client's handlers for the codex/* notifications (a handler's errors never reach the server).
function M.handlers()
  local result = {}
  for method, handle in pairs(handlers) do
    result[method] = function(_, params, ctx)
      local ok, err = pcall(handle, params or {}, ctx)
      if not ok then
        vim.notify_once("codex: cannot show " .. method .. ": " .. tostring(err), vim.log.levels.WARN)
      end
    end
  end
  for _, method in ipairs(QUIET) do
    result[method] = function() end
  end
  return result
end

return M
