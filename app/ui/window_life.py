"""The window's lifetime, shared by its parts: a worker's signal may arrive after the window closed."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Protocol, TypeVar

from app.ui.worker import GeneratorWorker

CLOSE_WAIT_S = 10.0


class Lifetime:
    """Open until the window closes; its parts then drop the signals their workers had already queued."""

    def __init__(self) -> None:
        self.open = True


class WindowPart(Protocol):
    life: Lifetime


def stop_all(*workers: GeneratorWorker | None) -> None:
    """Stop each worker under way and wait for it (the window closes, or the session it works for)."""
    for worker in workers:
        if worker is not None:
            worker.abort()
            worker.wait(CLOSE_WAIT_S)


Slot = TypeVar("Slot", bound=Callable[..., None])


def while_open(slot: Slot) -> Slot:
    """Drop a worker's signal that arrives after the window closed (it may already be queued)."""

    @functools.wraps(slot)
    def guarded(self: WindowPart, *args: object) -> None:
        if self.life.open:
            slot(self, *args)

    return guarded  # type: ignore[return-value]
