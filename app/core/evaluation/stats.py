"""What the cascade did, per model and per A/B arm: ``hearth stats``, and the dashboard's totals.

Read from the database: the answer shown for each message (the attempt whose
text was shown), every attempt's tokens and cost, routing misses (a user
asking a stronger model), thumbs up and down, and shadow runs.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from app.core.config.schema import Config, LocalModel
from app.core.evaluation.usage_report import (
    ArmUsage,
    ConversationCost,
    Latency,
    ModelUsage,
    ShadowUsage,
    Spending,
    UsageReport,
    WayUsage,
)
from app.core.evaluation.ways import seconds_taken, step_roles, way_of
from app.core.providers.pricing import Pricing
from app.core.storage.rows import AttemptRow, escalated_on_its_own, shown_attempt
from app.core.storage.store import Store
from app.core.storage.usage import UsageRecords


@dataclass(frozen=True)
class ShownAnswer:
    message: dict[str, Any]  # the stored answer
    attempts: list[AttemptRow]  # every attempt at it
    shown: AttemptRow  # the attempt whose text is on show
    escalated: bool  # the cascade climbed on its own (app/core/storage/rows.py)


@dataclass(frozen=True)
class Answered:
    """Every complete answer with its attempts, read once for both the report and the dashboard."""

    answers: list[ShownAnswer]
    attempts: dict[int, list[AttemptRow]]  # by message, complete or not
    unreadable: int  # attempts stored with values Hearth cannot use: not counted


def read_answers(store: Store) -> Answered:
    attempts: dict[int, list[AttemptRow]] = defaultdict(list)
    readable, unreadable = store.readable_attempts()
    for attempt in readable:
        attempts[attempt.message_id].append(attempt)
    answers = []
    for message in UsageRecords(store).complete_answers():
        tried = attempts.get(message["id"], [])
        shown = shown_attempt(tried, message["content"])
        if shown is not None:
            answers.append(ShownAnswer(message, tried, shown, escalated_on_its_own(tried, shown)))
    return Answered(answers, dict(attempts), unreadable)


def latency(values: list[float]) -> Latency:
    if not values:
        return Latency()
    return Latency(float(np.percentile(values, 50)), float(np.percentile(values, 95)))


def compute(store: Store, config: Config, answered: Answered | None = None) -> UsageReport:
    answered = answered or read_answers(store)
    usage = UsageRecords(store)
    arm_of = usage.arms()
    feedback: dict[int, list[int]] = defaultdict(list, usage.ratings())
    misses: dict[int, int] = defaultdict(int)
    for event in store.routing_events():
        misses[event.message_id] += 1
    pricing = Pricing(config)
    reference = pricing.reference()

    models: dict[str, ModelUsage] = defaultdict(ModelUsage)
    latencies: dict[str, list[float]] = defaultdict(list)
    arms: dict[str, ArmUsage] = defaultdict(ArmUsage)
    ways: dict[str, WayUsage] = defaultdict(WayUsage)
    way_seconds: dict[str, list[float]] = defaultdict(list)
    for answer in answered.answers:
        message_id, shown = answer.message["id"], answer.shown
        up, down = sum(r > 0 for r in feedback[message_id]), sum(r < 0 for r in feedback[message_id])
        model = models[shown.model]
        model.answers += 1
        model.escalated_to += answer.escalated
        model.thumbs_up += up
        model.thumbs_down += down
        latencies[shown.model].append(shown.latency_ms or 0.0)
        if reference and isinstance(config.models.get(shown.model), LocalModel):
            saved = pricing.cost(reference, shown.tokens_in or 0, shown.tokens_out or 0)
            model.cost_saved = (model.cost_saved or 0.0) + saved
        arm = arms[arm_of.get(answer.message["conversation_id"], "A")]
        arm.answers += 1
        arm.escalated += answer.escalated
        arm.routing_misses += misses[message_id]
        arm.thumbs_up += up
        arm.thumbs_down += down
        arm.cost += sum(attempt.spent for attempt in answer.attempts)
        way_name = way_of(step_roles(answer.attempts))
        way = ways[way_name]
        way.answers += 1
        way.escalated += answer.escalated
        if feedback[message_id]:
            way.rated += 1
            way.right += feedback[message_id][-1] > 0
        way.cost += sum(attempt.spent for attempt in answer.attempts)
        taken = seconds_taken(answer.message["created_at"], [attempt.created_at for attempt in answer.attempts])
        if taken is not None:
            way_seconds[way_name].append(taken)
    for attempts in answered.attempts.values():
        for attempt in attempts:
            model = models[attempt.model]
            model.attempts += 1
            model.tokens_in += attempt.tokens_in or 0
            model.tokens_out += attempt.tokens_out or 0
            model.cost += attempt.spent
    for name, model in models.items():
        model.latency_ms = latency(latencies[name])
    for name, way in ways.items():
        way.seconds = latency(way_seconds[name])

    month_start = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    spending = Spending(
        this_month=store.cost_since(month_start.isoformat(timespec="milliseconds")),
        total=store.cost_since(""),
        monthly_budget=config.settings.monthly_budget,
        by_conversation=[ConversationCost(*row) for row in usage.costliest_conversations(10)],
    )
    return UsageReport(
        spending=spending,
        models=dict(sorted(models.items())),
        arms=dict(sorted(arms.items())),
        ways=dict(ways),
        shadow=_shadows(usage),
        cost_saved_reference=reference,
        unreadable_attempts=answered.unreadable,
    )


def _shadows(usage: UsageRecords) -> dict[str, ShadowUsage]:
    runs_by_challenger: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in usage.shadow_runs():
        runs_by_challenger[row["challenger"]].append(row)
    shadows = {}
    for challenger, runs in runs_by_challenger.items():
        ok = [r for r in runs if r["error"] is None]
        shadows[challenger] = ShadowUsage(
            runs=len(runs),
            failed=len(runs) - len(ok),
            agreement=_mean([r["agreement"] for r in ok]),
            champion_confidence=_mean([r["champion_confidence"] for r in ok]),
            challenger_confidence=_mean([r["challenger_confidence"] for r in ok]),
            champion_latency_ms=latency([r["champion_latency_ms"] for r in ok]),
            challenger_latency_ms=latency([r["challenger_latency_ms"] for r in ok]),
            challenger_tokens=sum(r["challenger_tokens"] or 0 for r in ok),
            challenger_cost=sum(r["challenger_cost"] or 0.0 for r in ok),
        )
    return shadows


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return float(np.mean(present)) if present else None
