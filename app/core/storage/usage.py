"""What ``hearth stats`` and the dashboard read: rows as stored, for reports that read every field leniently."""

from __future__ import annotations

from typing import Any

from app.core.storage.database import translating_errors
from app.core.storage.store import Store


@translating_errors
class UsageRecords:
    def __init__(self, store: Store):
        self.db = store.db
        self.path = store.path

    def shadow_runs(self) -> list[dict[str, Any]]:
        return list(self.db["shadow_runs"].rows_where(order_by="id"))

    def complete_answers(self) -> list[dict[str, Any]]:
        """Every complete answer (all branches), oldest first."""
        return list(self.db["messages"].rows_where("role = 'assistant' AND status = 'complete'", order_by="id"))

    def arms(self) -> dict[int, str]:
        """Each conversation's A/B arm."""
        return {row["id"]: row["arm"] for row in self.db["conversations"].rows}

    def ratings(self) -> dict[int, list[int]]:
        """The thumbs (+1, -1) each answer was given."""
        given: dict[int, list[int]] = {}
        for row in self.db["feedback"].rows:
            given.setdefault(row["message_id"], []).append(row["rating"])
        return given

    def costliest_conversations(self, limit: int = 10) -> list[tuple[int, str, float]]:
        """The conversations this installation spent most on (AttemptRow.spent: imported attempts count nothing)."""
        rows = self.db.execute(
            "SELECT c.id, c.title, SUM(a.cost) FROM attempts a JOIN messages m ON m.id = a.message_id "
            "JOIN conversations c ON c.id = m.conversation_id WHERE a.imported = 0 "
            "GROUP BY c.id HAVING SUM(a.cost) > 0 ORDER BY SUM(a.cost) DESC LIMIT ?",
            [limit],
        )
        return [(cid, title, cost) for cid, title, cost in rows.fetchall()]
