"""How each way of answering did in real use: the cascade, plan mode, draft then refine.

The figures ``hearth eval --workflow`` reports on labelled tasks, here from the user's own
answers: how many, how often right (of those the user rated ✓ Good or ✗ Wrong), the time
from the question to the last step, the cost, and the cost per quality-adjusted answer
(the cost divided by the share right). Routing accuracy needs a label for every request,
so it stays with ``hearth eval --routing``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from app.core.conversation.teamwork.steps import step_of
from app.core.evaluation.usage_report import WayUsage
from app.core.storage.rows import AttemptRow

CASCADE, PLAN, DRAFT_REFINE = "cascade", "plan", "draft and refine"
WAYS = (CASCADE, PLAN, DRAFT_REFINE)


def way_of(steps: Sequence[str | None]) -> str:
    """How an answer was made, from the roles of its attempts' steps (None: an ordinary attempt)."""
    roles = set(steps)
    if roles & {"planner", "part", "synthesis"}:
        return PLAN
    if roles & {"draft", "refine"}:
        return DRAFT_REFINE
    return CASCADE


def seconds_taken(asked_at: str, steps_ended_at: Sequence[str]) -> float | None:
    if not steps_ended_at:
        return None
    taken = datetime.fromisoformat(max(steps_ended_at)) - datetime.fromisoformat(asked_at)
    return max(0.0, taken.total_seconds())


def step_roles(attempts: Sequence[AttemptRow]) -> list[str | None]:
    return [step.role if (step := step_of(attempt)) is not None else None for attempt in attempts]


def describe_way(way: WayUsage) -> str:
    """One line for a way of answering, as ``hearth stats`` and the dashboard say it."""
    right = f"{way.success_rate:.0%} right of {way.rated} rated" if way.success_rate is not None else "none rated yet"
    taken = f", median {way.seconds.p50:.1f} s" if way.seconds.p50 is not None else ""
    per = f", ${way.cost_per_quality:.4f} per right answer" if way.cost_per_quality is not None else ""
    answers = f"{way.answers} answer{'s' if way.answers != 1 else ''}"
    return f"{answers} ({way.escalated} escalated), {right}{taken}, cost ${way.cost:.4f}{per}"
