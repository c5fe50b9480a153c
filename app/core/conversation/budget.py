"""The monthly budget: what is left of it decides whether a paid tier may answer (app/core/routing/router.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from app.core.config.schema import Config
from app.core.storage.store import Store


def budget_left(config: Config, store: Store) -> float | None:
    """What is left of this month's budget (None: no budget is set)."""
    budget = config.settings.monthly_budget
    if budget is None:
        return None
    month_start = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return budget - store.cost_since(month_start.isoformat(timespec="milliseconds"))
