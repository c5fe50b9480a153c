"""Which step of a plan an attempt was, stored with the attempt as JSON text (column ``step``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.core.conversation.teamwork.plans import Part, Plan
from app.core.routing.tasks import Task
from app.core.storage.rows import AttemptRow

Role = Literal["planner", "part", "synthesis", "draft", "refine"]


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Role
    number: int | None = Field(default=None, ge=1)  # the part's number
    task: Task | None = None
    text: str | None = None  # what the part asks
    depends_on: list[int] = Field(default_factory=list)

    @classmethod
    def of(cls, part: Part) -> Step:
        return cls(role="part", number=part.number, task=part.task, text=part.text, depends_on=list(part.depends_on))

    def as_part(self) -> Part | None:
        if self.role != "part" or self.number is None or self.task is None or self.text is None:
            return None
        return Part(self.number, self.task, self.text, tuple(self.depends_on))


def step_of(row: AttemptRow) -> Step | None:
    """The row's step; None for an attempt of an ordinary answer, or a step this version cannot read."""
    if row.step is None:
        return None
    try:
        return Step.model_validate_json(row.step)
    except ValidationError:
        return None


def plan_escalated(rows: Sequence[AttemptRow]) -> bool | None:
    """Whether any step of a plan climbed a tier (None: the answer was no plan). A plan's synthesis comes
    after its parts, so the answer's position says nothing about escalation; each step's own attempts do."""
    tiers: dict[tuple[str, int | None], set[str]] = {}
    for row in rows:
        step = step_of(row)
        if step is not None and row.trigger == "auto":
            tiers.setdefault((step.role, step.number), set()).add(row.tier)
    if not tiers:
        return None
    return any(len(seen) > 1 for seen in tiers.values())


def part_results(rows: Sequence[AttemptRow]) -> dict[int, AttemptRow]:
    """The latest answered attempt of each part, by the part's number."""
    results: dict[int, AttemptRow] = {}
    for row in rows:
        step = step_of(row)
        if step is not None and step.role == "part" and step.number is not None and row.error is None:
            results[step.number] = row
    return results


def stored_plan(rows: Sequence[AttemptRow], request: str) -> Plan | None:
    """The plan an answer ran, read back from its attempts (the latest attempt of each part counts)."""
    parts: dict[int, Part] = {}
    for row in rows:
        step = step_of(row)
        part = step.as_part() if step else None
        if part is not None:
            parts[part.number] = part
    if not parts:
        return None
    return Plan(tuple(parts[n] for n in sorted(parts)), "stored", request=request)
