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

from app.core.config import Config, LocalModel, RemoteBase
from app.core.rows import AttemptRow, shown_attempt
from app.core.store import Store


def _percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None}
    return {"p50": float(np.percentile(values, 50)), "p95": float(np.percentile(values, 95))}


def reference_prices(config: Config) -> tuple[str, float, float] | None:
    """The priciest configured remote model: what a local answer would otherwise have cost."""
    priced = [(m.price_in + m.price_out, name, m) for name, m in config.models.items() if isinstance(m, RemoteBase)]
    priced = [p for p in priced if p[0] > 0]
    if not priced:
        return None
    _, name, model = max(priced)
    return name, model.price_in, model.price_out


def compute(store: Store, config: Config) -> dict[str, Any]:
    db = store.db
    arm_of = {row["id"]: row["arm"] for row in db["conversations"].rows}
    answers = list(db["messages"].rows_where("role = 'assistant' AND status = 'complete'"))
    attempts_by_message: dict[int, list[AttemptRow]] = defaultdict(list)
    readable, unreadable = store.readable_attempts()
    for attempt in readable:
        attempts_by_message[attempt.message_id].append(attempt)
    feedback: dict[int, list[int]] = defaultdict(list)
    for row in db["feedback"].rows:
        feedback[row["message_id"]].append(row["rating"])
    misses: dict[int, int] = defaultdict(int)
    for event in store.routing_events():
        misses[event.message_id] += 1
    reference = reference_prices(config)

    per_model: dict[str, dict[str, Any]] = defaultdict(lambda: defaultdict(float))
    latencies: dict[str, list[float]] = defaultdict(list)
    per_arm: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for message in answers:
        attempts = attempts_by_message.get(message["id"], [])
        shown = shown_attempt(attempts, message["content"])
        if shown is None:
            continue
        automatic = [a for a in attempts if a.trigger == "auto"]
        escalated = len({a.tier for a in automatic}) > 1
        arm = arm_of.get(message["conversation_id"], "A")
        model = per_model[shown.model]
        model["answers"] += 1
        model["escalated_to"] += shown.position > 0 and shown.trigger == "auto"
        model["thumbs_up"] += sum(r > 0 for r in feedback[message["id"]])
        model["thumbs_down"] += sum(r < 0 for r in feedback[message["id"]])
        latencies[shown.model].append(shown.latency_ms or 0.0)
        if reference and isinstance(config.models.get(shown.model), LocalModel):
            _, price_in, price_out = reference
            model["cost_saved"] += ((shown.tokens_in or 0) * price_in + (shown.tokens_out or 0) * price_out) / 1e6
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
    for challenger in {row["challenger"] for row in db["shadow_runs"].rows}:
        runs = list(db["shadow_runs"].rows_where("challenger = ?", [challenger]))
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
    by_conversation = db.execute(
        "SELECT c.id, c.title, SUM(a.cost) FROM attempts a JOIN messages m ON m.id = a.message_id "
        "JOIN conversations c ON c.id = m.conversation_id WHERE a.imported = 0 "  # AttemptRow.spent
        "GROUP BY c.id HAVING SUM(a.cost) > 0 "
        "ORDER BY SUM(a.cost) DESC LIMIT 10"
    ).fetchall()
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
        "cost_saved_reference": reference[0] if reference else None,
        "unreadable_attempts": unreadable,
    }


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return float(np.mean(present)) if present else None
