"""Retrying a failing provider, and resting it when it keeps failing.

A retry only happens when it can help (the error says so: a timeout, a rate
limit, an overloaded or unreachable service) and before any text arrived —
an answer is never started twice. Waits grow exponentially with jitter and
honour the service's Retry-After. A model that still fails cools down for a
while, so the next messages go straight to the next model of its tier.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RetryPolicy:
    tries: int = 3  # per model and message, the first included
    base_s: float = 0.5
    cap_s: float = 8.0  # the longest wait; a longer Retry-After means cooling down instead
    cooldown_s: float = 60.0

    def wait(self, failed_tries: int, retry_after: float | None, rng: Callable[[], float] = random.random) -> float:
        if retry_after is not None:
            return retry_after
        return min(self.cap_s, self.base_s * 2 ** (failed_tries - 1)) * (0.5 + rng() / 2)


DEFAULT_RETRY = RetryPolicy()


@dataclass
class Cooldowns:
    """Models resting after repeated failures; shared by every message of a session.

    With a wall clock (``time.time``) the rests can be recorded and read back by
    another run of Hearth (the window and the command line share them).
    """

    clock: Callable[[], float] = time.monotonic
    _until: dict[str, float] = field(default_factory=dict)

    def left(self, model_id: str) -> float:
        return max(0.0, self._until.get(model_id, 0.0) - self.clock())

    def start(self, model_id: str, seconds: float) -> None:
        self._until[model_id] = self.clock() + seconds

    def resting(self) -> dict[str, float]:
        """The models resting now, and until when (on this clock)."""
        now = self.clock()
        return {model_id: until for model_id, until in self._until.items() if until > now}

    def merge(self, until: dict[str, float]) -> None:
        """Rests recorded elsewhere; the longer rest of a model wins."""
        for model_id, end in until.items():
            self._until[model_id] = max(self._until.get(model_id, 0.0), end)

    def end(self, model_ids: list[str]) -> None:
        for model_id in model_ids:
            self._until.pop(model_id, None)
