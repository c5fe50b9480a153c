"""The numbers behind the dashboard's charts, read from the database.

Per answer shown: which tier wrote it and whether the cascade escalated; per
first attempt: the local model's confidence (what escalation is decided on);
per attempt: latency and cost. Money saved is what the priciest configured
cloud model would have charged for the answers written locally.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from app.core.config.schema import Config
from app.core.evaluation import stats
from app.core.evaluation.usage_report import WayUsage
from app.core.storage.store import Store

BINS = 10
DAYS = 30


@dataclass
class Overview:
    answers: int = 0
    by_tier: dict[str, int] = field(default_factory=dict)
    escalation_by_day: list[tuple[str, float]] = field(default_factory=list)  # (YYYY-MM-DD, share escalated)
    confidence_bins: list[int] = field(default_factory=lambda: [0] * BINS)
    latency_by_tier: dict[str, tuple[float, float]] = field(default_factory=dict)  # p50, p95 in ms
    cost_by_day: list[tuple[str, float]] = field(default_factory=list)
    spent_this_month: float = 0.0
    saved: float = 0.0
    saved_reference: str | None = None
    threshold: float = 0.0
    ways: dict[str, WayUsage] = field(default_factory=dict)  # the cascade, plan mode, draft then refine


def overview(store: Store, config: Config, today: datetime | None = None) -> Overview:
    """The dashboard's charts, from the same reading of the answers as ``hearth stats`` (and its totals)."""
    today = today or datetime.now(UTC)
    result = Overview(threshold=config.settings.threshold)
    answered = stats.read_answers(store)
    tiers: Counter[str] = Counter()
    escalated: dict[str, list[bool]] = defaultdict(list)
    latencies: dict[str, list[float]] = defaultdict(list)
    costs: dict[str, float] = defaultdict(float)
    for answer in answered.answers:
        tiers[answer.shown.tier] += 1
        escalated[answer.message["created_at"][:10]].append(answer.escalated)
        first = answer.attempts[0]
        if first.confidence is not None:
            result.confidence_bins[min(BINS - 1, int(first.confidence * BINS))] += 1
    for tried in answered.attempts.values():
        for attempt in tried:
            if attempt.error is None and attempt.latency_ms is not None:
                latencies[attempt.tier].append(attempt.latency_ms)
            costs[attempt.created_at[:10]] += attempt.spent
    days = [(today - timedelta(days=back)).strftime("%Y-%m-%d") for back in range(DAYS - 1, -1, -1)]
    result.answers = sum(tiers.values())
    result.by_tier = dict(tiers.most_common())
    result.escalation_by_day = [(day, float(np.mean(escalated[day]))) for day in days if escalated.get(day)]
    result.latency_by_tier = {
        tier: (float(np.percentile(values, 50)), float(np.percentile(values, 95))) for tier, values in latencies.items()
    }
    result.cost_by_day = [(day, costs.get(day, 0.0)) for day in days]
    report = stats.compute(store, config, answered)
    result.spent_this_month = report.spending.this_month
    result.saved = report.saved
    result.saved_reference = report.cost_saved_reference
    result.ways = report.ways
    return result
