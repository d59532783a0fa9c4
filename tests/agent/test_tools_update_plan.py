"""update_plan: Codex's shape, one step in progress at most, stored and announced."""

from __future__ import annotations

from pathlib import Path

from codex_lsp.agent.events import ItemCompleted, ItemStarted, PlanItem, PlanStep, PlanUpdated
from codex_lsp.agent.tools.update_plan import UpdatePlanTool
from tests.agent.fakes import DiskWorkspace, EventLog, call_tool, tool_context

TOOL = UpdatePlanTool()


async def test_plan_is_stored_and_announced(tmp_path: Path) -> None:
    log = EventLog()
    ctx = tool_context(DiskWorkspace(tmp_path), log=log)
    plan = [{"step": "read", "status": "completed"}, {"step": "fix", "status": "in_progress"}]
    result = await call_tool(TOOL, ctx, explanation="halfway", plan=plan)
    steps = [PlanStep(step="read", status="completed"), PlanStep(step="fix", status="in_progress")]
    assert result.success
    assert result.output == "Plan updated"
    assert ctx.plan == steps
    assert log.types() == ["item/started", "turn/plan/updated", "item/completed"]
    (updated,) = log.of(PlanUpdated)
    assert updated.plan == tuple(steps)
    assert updated.explanation == "halfway"
    started, completed = log.of(ItemStarted)[0].item, log.of(ItemCompleted)[0].item
    assert isinstance(completed, PlanItem)
    assert started.id == completed.id
    assert completed.steps == tuple(steps)


async def test_a_new_plan_replaces_the_old(tmp_path: Path) -> None:
    ctx = tool_context(DiskWorkspace(tmp_path))
    await call_tool(TOOL, ctx, plan=[{"step": "a", "status": "pending"}, {"step": "b", "status": "pending"}])
    await call_tool(TOOL, ctx, plan=[{"step": "a", "status": "completed"}])
    assert ctx.plan == [PlanStep(step="a", status="completed")]


async def test_two_steps_in_progress_is_an_error(tmp_path: Path) -> None:
    log = EventLog()
    ctx = tool_context(DiskWorkspace(tmp_path), log=log)
    plan = [{"step": "a", "status": "in_progress"}, {"step": "b", "status": "in_progress"}]
    result = await call_tool(TOOL, ctx, plan=plan)
    assert not result.success
    assert "one step" in result.output
    assert ctx.plan == []
    assert log.events == []


async def test_unknown_status_is_an_error(tmp_path: Path) -> None:
    result = await call_tool(
        TOOL, tool_context(DiskWorkspace(tmp_path)), plan=[{"step": "a", "status": "done"}]
    )
    assert not result.success
    assert "plan.0.status" in result.output
