"""Run a core generator on the thread pool, one queued signal per item.

The abort flag is checked between items; aborting closes the generator, so
the core's ``finally`` blocks run on the worker thread (release the model,
mark the answer incomplete).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from app.core.errors import HearthError


class WorkerSignals(QObject):
    item = Signal(object)
    failed = Signal(str)
    done = Signal()


class GeneratorWorker(QRunnable):
    def __init__(self, make: Callable[[], Iterator[Any]]):
        super().__init__()
        self.setAutoDelete(False)
        self.signals = WorkerSignals()
        self._make = make
        self._abort = threading.Event()
        self._finished = threading.Event()

    def abort(self) -> None:
        self._abort.set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._finished.wait(timeout)

    def run(self) -> None:
        try:
            generator = self._make()
            try:
                for item in generator:
                    self.signals.item.emit(item)
                    if self._abort.is_set():
                        break
            finally:
                generator.close()
        except HearthError as exc:
            self.signals.failed.emit(str(exc))
        except Exception as exc:  # the window must show every failure, never die silently
            self.signals.failed.emit(f"Unexpected error: {type(exc).__name__}: {exc}")
        finally:
            self._finished.set()
            self.signals.done.emit()


def start(worker: GeneratorWorker) -> GeneratorWorker:
    QThreadPool.globalInstance().start(worker)
    return worker


def call_worker(call: Callable[[], Any]) -> GeneratorWorker:
    """A worker for one blocking call, not started yet (connect its signals first); its result is one item."""

    def once() -> Iterator[Any]:
        yield call()

    return GeneratorWorker(once)


def run_call(call: Callable[[], Any]) -> GeneratorWorker:
    """Run one blocking call in the background; its result arrives as a single item."""
    return start(call_worker(call))
