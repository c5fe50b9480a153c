"""What a plan run tells its caller besides the attempts: the plan, and each part as it runs and ends."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.answers import Answer
from app.core.conversation.teamwork.plans import Plan


@dataclass(frozen=True)
class PlanReady:
    plan: Plan


@dataclass(frozen=True)
class PartStarted:
    number: int  # the part's number; 0 is the planner, and the synthesis is len(parts) + 1
    index: int  # the attempt's index in the answer
    tier: str
    model_id: str
    label: str


@dataclass(frozen=True)
class PartDelta:
    number: int
    text: str


@dataclass(frozen=True)
class PartDone:
    number: int
    answer: Answer | None  # None: no model could be asked (the gate kept it here)
    problem: str | None  # in words, when the part has no usable result

    @property
    def ok(self) -> bool:
        return self.problem is None


PlanEvent = PlanReady | PartStarted | PartDelta | PartDone
