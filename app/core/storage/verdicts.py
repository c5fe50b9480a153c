"""The user's verdicts on answers, as stored: labels for each model's confidence (conversation/learning)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from app.core.storage.store import Store


def keep(store: Store, row: dict[str, Any]) -> None:
    """One verdict per attempt: a later one replaces it."""
    with store.db.atomic():
        store.db["verdicts"].upsert(row, pk="attempt_id")


def rows(store: Store, model: str) -> Iterator[dict[str, Any]]:
    """This model's verdicts, oldest first."""
    yield from store.db["verdicts"].rows_where("model = ?", [model], order_by="created_at, attempt_id")


def count(store: Store, model: str) -> int:
    return store.db["verdicts"].count_where("model = ?", [model])


def forget(store: Store, model: str) -> None:
    with store.db.atomic():
        store.db.execute("DELETE FROM verdicts WHERE model = ?", [model])
