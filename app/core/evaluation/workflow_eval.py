"""The KPIs of models working together: the arms on labelled multi-part tasks, in one run.

Arms: the strongest configured model alone (the highest tier's model the policy allows), the
cascade (routed like a message), plan mode, and draft-then-refine. Each item is a request whose
parts each have a check; an answer gets the share of its parts right.
Reported per arm: task success rate (every part right), the share of parts
right, the prompt tokens sent off this computer, routing accuracy (the share of labelled part tasks the arm recognised:
the plan's part tasks for plan mode, the request's one task for the cascade;
the strongest model alone and draft-then-refine do not route), end-to-end latency, cost, and cost
per quality-adjusted output (cost divided by the share of parts right).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, model_validator

from app.core.answers import Answer, Finished
from app.core.confidence.calibration import Scorer
from app.core.conversation.context import system_messages
from app.core.conversation.teamwork.chat_modes import ChatModes
from app.core.conversation.teamwork.events import PlanReady
from app.core.errors import HearthError
from app.core.evaluation.harness import EvalItem, judge, load_jsonl
from app.core.privacy.gate import Passage
from app.core.providers.base import Message
from app.core.routing.tasks import Task, recognise

if TYPE_CHECKING:
    from app.core.storage.store import Store

ARMS = ("strongest", "cascade", "plan", "refine")
UNROUTED = ("strongest", "refine")  # arms that send the whole request to a model chosen without routing


class WorkflowPart(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    task: Task
    accept: list[str] | None = None
    regex: str | None = None

    @model_validator(mode="after")
    def _one_check(self) -> WorkflowPart:
        if (self.accept is None) == (self.regex is None):
            raise ValueError("give exactly one of 'accept' or 'regex'")
        return self

    def right(self, answer: str) -> bool:
        return judge(EvalItem(id="part", prompt="", accept=self.accept, regex=self.regex), answer)


class WorkflowItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    request: str
    parts: list[WorkflowPart]
    source: str | None = None


def load_workflow_items(path: Path) -> list[WorkflowItem]:
    return load_jsonl(path, WorkflowItem, "contains no tasks")


@dataclass(frozen=True)
class ArmResult:
    arm: str
    item: str
    parts_right: int
    parts: int
    routed_right: int | None  # labelled part tasks the arm recognised; None: the arm does not route
    latency_ms: float
    cost: float
    tokens_out: int
    answer: str
    error: str | None = None
    tokens_sent: int = 0  # prompt tokens that left this computer

    @property
    def success(self) -> bool:
        return self.parts_right == self.parts


@dataclass(frozen=True)
class ArmSummary:
    arm: str
    items: int
    success_rate: float
    quality: float  # the share of parts right
    routing_accuracy: float | None
    latency_ms: float  # mean, end to end
    cost: float  # USD, all items
    tokens_sent: int  # prompt tokens that left this computer, all items
    cost_per_quality: float | None  # cost / quality; None when no part was right

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def summarise(results: Sequence[ArmResult]) -> list[ArmSummary]:
    summaries = []
    for arm in ARMS:
        mine = [r for r in results if r.arm == arm]
        if not mine:
            continue
        parts = sum(r.parts for r in mine)
        quality = sum(r.parts_right for r in mine) / parts
        routed = [r.routed_right for r in mine if r.routed_right is not None]
        cost = sum(r.cost for r in mine)
        summaries.append(
            ArmSummary(
                arm=arm,
                items=len(mine),
                success_rate=sum(r.success for r in mine) / len(mine),
                quality=quality,
                routing_accuracy=sum(routed) / parts if len(routed) == len(mine) else None,
                latency_ms=sum(r.latency_ms for r in mine) / len(mine),
                cost=cost,
                tokens_sent=sum(r.tokens_sent for r in mine),
                cost_per_quality=cost / quality if quality > 0 else None,
            )
        )
    return summaries


def routed_right(labelled: Sequence[Task], recognised: Sequence[Task]) -> int:
    """How many labelled part tasks were recognised (each recognised task counts once)."""
    return sum((Counter(labelled) & Counter(recognised)).values())


ArmRunner = Callable[[str], Iterator[object]]  # a request -> the arm's events, ending with Finished
CostFn = Callable[[Answer], float]


def run_arm(arm: str, item: WorkflowItem, events: ArmRunner, cost: CostFn) -> ArmResult:
    labelled = [part.task for part in item.parts]
    recognised: list[Task] = []
    answer: Answer | None = None
    error: str | None = None
    started = time.perf_counter()
    try:
        for event in events(item.request):
            if isinstance(event, PlanReady):
                recognised = [part.task for part in event.plan.parts]
            elif isinstance(event, Finished):
                answer = event.answer
    except HearthError as exc:
        error = str(exc)
    latency_ms = (time.perf_counter() - started) * 1000
    if arm == "cascade":
        recognised = [recognise(item.request).task]
    text = answer.text if answer is not None else ""
    return ArmResult(
        arm=arm,
        item=item.id,
        parts_right=sum(part.right(text) for part in item.parts) if answer is not None else 0,
        parts=len(item.parts),
        routed_right=None if arm in UNROUTED else routed_right(labelled, recognised),
        latency_ms=latency_ms,
        cost=cost(answer) if answer is not None else 0.0,
        tokens_out=answer.tokens_out if answer is not None else 0,
        answer=text,
        error=error,
        tokens_sent=sum(a.tokens_in for a in answer.attempts if a.location != "local") if answer is not None else 0,
    )


def arm_runners(modes: ChatModes, store: Store, passage: Passage, scorer: Scorer) -> dict[str, ArmRunner]:
    """The three arms over one configuration, every request through ``passage`` (the outgoing gate)."""
    config = modes.chat.config
    allowed = [m for tier in config.tiers for m in tier.models if passage.barrier(modes.chat.registry.get(m)) is None]
    strongest = allowed[-1]  # the first tier's model is local: always allowed
    system = config.settings.system_prompt
    cascade = modes.message_runner(store, scorer)
    return {
        "strongest": lambda request: modes.one_model(
            strongest,
            [*system_messages(system), Message("user", request)],
            passage,
            scorer,
            config.settings.max_answer_tokens,
        ),
        "cascade": lambda request: cascade(request, recognise(request).task, passage),
        "plan": lambda request: modes.plan_run(store, passage, request, scorer).run(),
        "refine": lambda request: modes.draft_refine(passage, [Message("user", request)], None, scorer).run(),
    }
