"""One generation per model at a time; the requests waiting for it are served first come, first served.

A loaded llama.cpp model answers one request at a time (its provider holds a lock for
the whole stream), but a lock is not a queue: whoever grabs it next wins. Each model
has its own line here, so a request never overtakes one that came before it, and the
line is bounded: past ``limit`` waiting, a request is refused at once (429) instead of
waiting without end. A request whose program went away leaves the line.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

from app.core.errors import QueueFull

WAKE_S = 0.05  # how often a waiting request checks whether its program went away


class FairQueue:
    def __init__(self, limit: int):
        self.limit = limit  # requests that may wait behind the one being answered, per model
        self._changed = threading.Condition()
        self._lines: dict[str, deque[object]] = {}

    def __len__(self) -> int:
        """Requests being answered or waiting, over every model."""
        with self._changed:
            return sum(len(line) for line in self._lines.values())

    @contextmanager
    def turn(self, model_id: str, gone: threading.Event) -> Iterator[bool]:
        """Wait for ``model_id``'s turn; yields False if ``gone`` was set first. Raises QueueFull at once."""
        ticket = object()
        with self._changed:
            line = self._lines.setdefault(model_id, deque())
            if len(line) > self.limit:
                raise QueueFull(
                    f"{model_id} is answering one request and {len(line) - 1} more are waiting, as many as "
                    f"Hearth keeps (server.queue = {self.limit} in models.toml). Try again in a moment."
                )
            line.append(ticket)
            while line[0] is not ticket and not gone.is_set():
                self._changed.wait(WAKE_S)
            admitted = line[0] is ticket
        try:
            yield admitted
        finally:
            with self._changed:
                line.remove(ticket)
                self._changed.notify_all()
