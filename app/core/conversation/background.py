"""Work that runs after an answer, off the chat's path: shadow runs and conversation summaries.

One worker thread, so background jobs never compete with each other; each
job opens its own database connection.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor


class BackgroundTasks:
    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hearth-background")
        self.submitted: list[Future[None]] = []  # for callers that wait on them (tests, benchmarks)

    def submit(self, job: Callable[[], None]) -> Future[None]:
        future = self._executor.submit(job)
        self.submitted.append(future)
        return future

    def close(self) -> None:
        """Finish the job in progress and drop the queued ones."""
        self._executor.shutdown(wait=True, cancel_futures=True)
