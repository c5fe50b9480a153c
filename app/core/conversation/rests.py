"""Models that failed rest for a while, across messages; the user may wake them ("try again")."""

from __future__ import annotations

import time
from collections.abc import Callable

from app.core.routing.retry import Cooldowns
from app.core.storage.outbound_records import OutboundRecords
from app.core.storage.store import Store


class Rests:
    def __init__(self, cooldowns: Cooldowns, store: Callable[[], Store]):
        """``cooldowns`` are the rests the cascade keeps; ``store`` opens a Store for the calling thread."""
        self.cooldowns = cooldowns
        self._open_store = store

    def resting(self, answer_id: int) -> dict[str, float]:
        """The models this answer tried that are resting now, and for how many seconds more."""
        store = self._open_store()
        try:
            tried = {attempt.model for attempt in store.attempts(answer_id)}
            self.cooldowns.merge(OutboundRecords(store).rests(time.time()))
        finally:
            store.close()
        return {model: left for model in sorted(tried) if (left := self.cooldowns.left(model)) > 0}

    def wake(self, model_ids: list[str]) -> None:
        """End the rests of ``model_ids``: the next message asks them again."""
        self.cooldowns.end(model_ids)
        store = self._open_store()
        try:
            OutboundRecords(store).wake(model_ids)
        finally:
            store.close()
