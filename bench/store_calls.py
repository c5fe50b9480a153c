"""What one message costs the database: store calls, write transactions, connections, migration runs.

    .venv/bin/python -m bench.store_calls [--messages 3]

A Hearth home with the real default model; ``ChatService.send`` of a new
conversation's first question, then follow-ups, as the window and ``hearth ask``
do, with the background work after each answer (the conversation's summary)
waited for. Counted per message, with a wrapper around the storage classes:

- store calls: public methods of ``Store`` and ``OutboundRecords`` called from
  outside them (a method calling another of the same store counts once);
- write transactions: ``BEGIN IMMEDIATE`` of the connection;
- connections: SQLite connections opened (``Store`` instances);
- migration runs: calls of ``migrate`` (each reads the schema's recorded migrations).

The numbers are counts, not times: the same on every computer. So that they do not
depend on how fast the model writes, the streamed text is saved only as its first
words arrive and when the answer ends (the app also saves every ``SAVE_EVERY_S``
while text arrives: one more call and transaction each time).
JSON goes to bench/results/store_calls.json.
"""

from __future__ import annotations

import argparse
import functools
import os
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from app.core.conversation import recording
from app.core.session import open_session
from app.core.storage import store as store_module
from app.core.storage.database import HearthDatabase
from app.core.storage.outbound_records import OutboundRecords
from app.core.storage.store import Store
from bench.report import RESULTS, write_report
from tests.conftest import config_text, fetch_test_model, write_user_config


@contextmanager
def patched(owner: Any, name: str, replacement: Any) -> Iterator[None]:
    original = getattr(owner, name)
    setattr(owner, name, replacement)
    try:
        yield
    finally:
        setattr(owner, name, original)


class Counts:
    """Counters shared by every thread (background jobs open their own store)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.transactions = 0
        self.connections = 0
        self.migrations = 0
        self._lock = threading.Lock()
        self._depth = threading.local()

    def outer_call(self, label: str, method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def counted(*args: Any, **kwargs: Any) -> Any:
            depth = getattr(self._depth, "n", 0)
            if depth == 0:
                with self._lock:
                    self.calls[label] += 1
            self._depth.n = depth + 1
            try:
                return method(*args, **kwargs)
            finally:
                self._depth.n = depth

        return counted

    def tick(self, what: str) -> None:
        with self._lock:
            setattr(self, what, getattr(self, what) + 1)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "store_calls": sum(self.calls.values()),
                "write_transactions": self.transactions,
                "connections": self.connections,
                "migration_runs": self.migrations,
                "calls": dict(sorted(self.calls.items())),
            }


def counting(counts: Counts) -> ExitStack:
    stack = ExitStack()
    for cls in (Store, OutboundRecords):
        for name, value in list(vars(cls).items()):
            if callable(value) and not name.startswith("_") and name != "close":
                stack.enter_context(patched(cls, name, counts.outer_call(f"{cls.__name__}.{name}", value)))
    original_init = Store.__init__

    def init(self: Store, *args: Any, **kwargs: Any) -> None:
        counts.tick("connections")
        original_init(self, *args, **kwargs)

    stack.enter_context(patched(Store, "__init__", init))
    original_migrate = store_module.migrate

    def migrate(*args: Any, **kwargs: Any) -> Any:
        counts.tick("migrations")
        return original_migrate(*args, **kwargs)

    stack.enter_context(patched(store_module, "migrate", migrate))
    original_atomic = HearthDatabase.atomic

    @contextmanager
    def atomic(self: HearthDatabase) -> Iterator[Any]:
        if not self.conn.in_transaction:
            counts.tick("transactions")
        with original_atomic(self) as db:
            yield db

    stack.enter_context(patched(HearthDatabase, "atomic", atomic))
    stack.enter_context(patched(recording, "SAVE_EVERY_S", float("inf")))
    return stack


def measure(home: Path, messages: int) -> list[dict[str, Any]]:
    os.environ["HEARTH_HOME"] = str(home)
    write_user_config(home, config_text(fetch_test_model()))
    session = open_session()
    session.registry.local().load()
    per_message = []
    conversation: int | None = None
    try:
        for number in range(messages):
            counts = Counts()
            with counting(counts):
                for event in session.chat.send(conversation, f"Question {number}: name a colour."):
                    conversation = getattr(event, "conversation_id", conversation)
                for job in session.chat.background.submitted:  # the summary after the answer, counted with it
                    job.result()
            per_message.append({"message": number + 1, **counts.snapshot()})
    finally:
        session.close()
    return per_message


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as home:
        per_message = measure(Path(home), args.messages)
    write_report({"per_message": per_message}, RESULTS / "store_calls.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
