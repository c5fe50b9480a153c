"""What the cascade did, per model and per A/B arm: ``hearth stats``.

Read from the database: the answer shown for each message (the attempt whose
text was shown), every attempt's tokens and cost, routing misses (a user
asking a stronger model), thumbs up and down, and shadow runs.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import numpy as np

from app.core.config.schema import Config, LocalModel
from app.core.providers.pricing import Pricing
from app.core.storage.rows import AttemptRow, escalated_on_its_own, shown_attempt
from app.core.storage.store import Store
from app.core.storage.usage import UsageRecords


def _percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None}
    return {"p50": float(np.percentile(values, 50)), "p95": float(np.percentile(values, 95))}


def compute(store: Store, config: Config) -> dict[str, Any]:
    usage = UsageRecords(store)
    arm_of = usage.arms()
    answers = usage.complete_answers()
    attempts_by_message: dict[int, list[AttemptRow]] = defaultdict(list)
    readable, unreadable = store.readable_attempts()
    for attempt in readable:
        attempts_by_message[attempt.message_id].append(attempt)
    feedback: dict[int, list[int]] = defaultdict(list, usage.ratings())
    misses: dict[int, int] = defaultdict(int)
    for event in store.routing_events():
        misses[event.message_id] += 1
    pricing = Pricing(config)
    reference = pricing.reference()

    per_model: dict[str, dict[str, Any]] = defaultdict(lambda: defaultdict(float))
    latencies: dict[str, list[float]] = defaultdict(list)
    per_arm: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for message in answers:
        attempts = attempts_by_message.get(message["id"], [])
        shown = shown_attempt(attempts, message["content"])
        if shown is None:
            continue
        escalated = escalated_on_its_own(attempts, shown)
        arm = arm_of.get(message["conversation_id"], "A")
        model = per_model[shown.model]
        model["answers"] += 1
        model["escalated_to"] += escalated
        model["thumbs_up"] += sum(r > 0 for r in feedback[message["id"]])
        model["thumbs_down"] += sum(r < 0 for r in feedback[message["id"]])
        latencies[shown.model].append(shown.latency_ms or 0.0)
        if reference and isinstance(config.models.get(shown.model), LocalModel):
            model["cost_saved"] += pricing.cost(reference, shown.tokens_in or 0, shown.tokens_out or 0)
        side = per_arm[arm]
        side["answers"] += 1
        side["escalated"] += escalated
        side["routing_misses"] += misses[message["id"]]
        side["thumbs_up"] += sum(r > 0 for r in feedback[message["id"]])
        side["thumbs_down"] += sum(r < 0 for r in feedback[message["id"]])
        for attempt in attempts:
            per_arm[arm]["cost"] += attempt.spent
    for attempts in attempts_by_message.values():
        for attempt in attempts:
            model = per_model[attempt.model]
            model["attempts"] += 1
            model["tokens_in"] += attempt.tokens_in or 0
            model["tokens_out"] += attempt.tokens_out or 0
            model["cost"] += attempt.spent

    shadows: dict[str, dict[str, Any]] = {}
    runs_by_challenger: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in usage.shadow_runs():
        runs_by_challenger[row["challenger"]].append(row)
    for challenger, runs in runs_by_challenger.items():
        ok = [r for r in runs if r["error"] is None]
        shadows[challenger] = {
            "runs": len(runs),
            "failed": len(runs) - len(ok),
            "agreement": _mean([r["agreement"] for r in ok]),
            "champion_confidence": _mean([r["champion_confidence"] for r in ok]),
            "challenger_confidence": _mean([r["challenger_confidence"] for r in ok]),
            "champion_latency_ms": _percentiles([r["champion_latency_ms"] for r in ok]),
            "challenger_latency_ms": _percentiles([r["challenger_latency_ms"] for r in ok]),
            "challenger_tokens": sum(r["challenger_tokens"] or 0 for r in ok),
            "challenger_cost": sum(r["challenger_cost"] or 0.0 for r in ok),
        }

    month_start = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    by_conversation = usage.costliest_conversations(10)
    spending = {
        "this_month": store.cost_since(month_start.isoformat(timespec="milliseconds")),
        "total": store.cost_since(""),
        "monthly_budget": config.settings.monthly_budget,
        "by_conversation": [{"id": cid, "title": title, "cost": cost} for cid, title, cost in by_conversation],
    }
    return {
        "spending": spending,
        "models": {
            name: {
                **{k: (int(v) if k not in ("cost", "cost_saved") else v) for k, v in values.items()},
                "latency_ms": _percentiles(latencies[name]),
            }
            for name, values in sorted(per_model.items())
        },
        "arms": {
            arm: {
                **{k: (int(v) if k != "cost" else v) for k, v in values.items()},
                "escalation_rate": values["escalated"] / values["answers"] if values["answers"] else None,
            }
            for arm, values in sorted(per_arm.items())
        },
        "shadow": shadows,
        "cost_saved_reference": reference,
        "unreadable_attempts": unreadable,
    }


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return float(np.mean(present)) if present else None
