"""``update_plan``: the agent's step list, in Codex's shape.

The model sends the whole plan each time (``explanation?`` and ``plan: [{step, status}]``); at
most one step may be ``in_progress``. The plan is kept on the turn context and shown to the user
through ``PlanUpdated`` and a ``plan`` item, so the editor can render progress.
"""

from __future__ import annotations

from typing import Any, ClassVar

from codex_lsp.agent.events import ItemCompleted, ItemStarted, PlanItem, PlanStep, PlanUpdated
from codex_lsp.agent.tools.args import ArgsTool, ToolArgs, failure
from codex_lsp.agent.tools.base import ToolContext, ToolResult, function_spec

__all__ = ["UpdatePlanTool"]

DESCRIPTION = (
    "Record or update your plan for the task as a list of short steps with a status "
    "(pending, in_progress, completed). Send the whole plan each time; at most one step may be "
    "in_progress. The user sees the plan in the editor."
)
STATUSES = ["pending", "in_progress", "completed"]


class UpdatePlanArgs(ToolArgs):
    explanation: str | None = None
    plan: tuple[PlanStep, ...]


class UpdatePlanTool(ArgsTool[UpdatePlanArgs]):
    """Keeps the turn's plan and announces each update."""

    name: ClassVar[str] = "update_plan"
    args_type = UpdatePlanArgs

    def spec(self) -> dict[str, Any]:
        step = {
            "type": "object",
            "properties": {"step": {"type": "string"}, "status": {"type": "string", "enum": STATUSES}},
            "required": ["step", "status"],
            "additionalProperties": False,
        }
        return function_spec(
            self.name,
            DESCRIPTION,
            {"explanation": {"type": "string"}, "plan": {"type": "array", "items": step}},
            ["plan"],
        )

    async def run_with(self, args: UpdatePlanArgs, ctx: ToolContext) -> ToolResult:
        active = sum(step.status == "in_progress" for step in args.plan)
        if active > 1:
            return failure(f"At most one step can be in_progress at a time; the plan has {active}.")
        ctx.plan[:] = args.plan
        item = PlanItem(id=ctx.new_item_id("plan"), explanation=args.explanation, steps=args.plan)
        ctx.emit(ItemStarted(turn_id=ctx.turn_id, item=item))
        ctx.emit(PlanUpdated(turn_id=ctx.turn_id, explanation=args.explanation, plan=args.plan))
        ctx.emit(ItemCompleted(turn_id=ctx.turn_id, item=item))
        return ToolResult(output="Plan updated")
