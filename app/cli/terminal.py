"""Talking to a person at a terminal: download progress and the consent question."""

from __future__ import annotations

import sys
from typing import TextIO

from app.core.fetch import FetchProgress
from app.core.gate import ConsentRequest, Decision


class ProgressPrinter:
    """Fetch progress on stderr: one updating line on a terminal, a line per 10 % otherwise."""

    def __init__(self, stream: TextIO = sys.stderr):
        self.stream = stream
        self.tty = stream.isatty()
        self._last: tuple[str, int] = ("", -1)

    def __call__(self, progress: FetchProgress) -> None:
        if progress.total:
            percent = int(100 * progress.done / progress.total)
            line = f"{progress.message}: {percent}% ({progress.done / 1e6:.0f} of {progress.total / 1e6:.0f} MB)"
        else:
            percent, line = 0, progress.message + "…"
        step = percent if self.tty else percent // 10
        if (progress.message, step) == self._last:
            return
        self._last = (progress.message, step)
        if self.tty:
            self.stream.write("\r\033[K" + line)
            if progress.total and progress.done >= progress.total:
                self.stream.write("\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def ask_consent_on_terminal(request: ConsentRequest) -> Decision:
    """Ask about this one destination; without a terminal to ask at, nothing is sent."""
    if not sys.stdin.isatty():
        return Decision.NOT_NOW
    cost = "free" if not request.estimated_cost else f"at most about ${request.estimated_cost:.4f}"
    if request.why:
        print(f"\n{request.why}", file=sys.stderr)
    print(
        f"\nHearth wants to send this to {request.model_id} ({request.location.value}: {request.destination}; "
        f"{cost}), exactly as shown:",
        file=sys.stderr,
    )
    for message in request.messages:
        print(f"  [{message.role}] {message.content}", file=sys.stderr)
    answer = input(
        f"Send it to {request.model_id} at {request.host}? [y] once, [a] always to {request.model_id} in this "
        "conversation, [N] not now: "
    )
    return {"y": Decision.ONCE, "yes": Decision.ONCE, "a": Decision.ALWAYS, "always": Decision.ALWAYS}.get(
        answer.strip().lower(), Decision.NOT_NOW
    )
