"""Cut generated text at stop strings without ever showing part of one."""

from __future__ import annotations

from collections.abc import Sequence


class StopText:
    def __init__(self, stops: Sequence[str]):
        self._stops = [stop for stop in stops if stop]
        self._held = ""
        self.stopped = False

    def feed(self, text: str) -> str:
        """Return the part of ``text`` that is safe to show now."""
        self._held += text
        for stop in self._stops:
            at = self._held.find(stop)
            if at != -1:
                self.stopped = True
                shown, self._held = self._held[:at], ""
                return shown
        keep = self._longest_stop_prefix_at_end()
        shown = self._held[: len(self._held) - keep]
        self._held = self._held[len(shown) :]
        return shown

    def flush(self) -> str:
        shown, self._held = self._held, ""
        return shown

    def _longest_stop_prefix_at_end(self) -> int:
        best = 0
        for stop in self._stops:
            for size in range(min(len(stop) - 1, len(self._held)), best, -1):
                if self._held.endswith(stop[:size]):
                    best = size
                    break
        return best
