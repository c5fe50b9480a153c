"""Talking to a person at a terminal: what may reach it, download progress, and the consent question.

Text from a model, a file, a server or a setting can carry terminal control
sequences: an OSC 52 write to the clipboard, a new window title, text that
hides itself or rewrites a line already shown. While a command runs, its
stdout and stderr go through ``printable``: escape sequences (CSI, OSC, DCS
and the rest, 7-bit and 8-bit) are removed, other control characters are
shown as symbols, bidi overrides are dropped; newlines and tabs stay.
JSON output escapes the same characters (``json_text``), so it stays exact.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from app.core.models.fetch import FetchProgress
from app.core.privacy.gate import ConsentRequest, Decision

_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"  # CSI: cursor, colours, erase
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC, DCS, SOS, PM, APC
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]?"  # any other escape
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")  # a byte of a path that was not UTF-8
_UNSAFE_IN_JSON = re.compile(r"[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _symbol(char: str) -> str:
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ … ␟
    return "\u2421" if code == 0x7F else "\ufffd"


def printable(text: str) -> str:
    """``text`` as a terminal may show it: no control sequence, no hidden control character."""
    text = _SEQUENCE.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _SURROGATE.sub("\ufffd", _BIDI.sub("", text))
    return _CONTROL.sub(lambda m: _symbol(m.group(0)), text)


def json_text(value: Any, **options: Any) -> str:
    """``value`` as JSON that is safe on a terminal and decodes to exactly ``value``."""
    text = json.dumps(value, ensure_ascii=False, **options)
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


class PrintableStream:
    """A text stream that lets only printable text through to the one it wraps."""

    def __init__(self, inner: TextIO):
        self.inner = inner

    def write(self, text: str) -> int:
        self.inner.write(printable(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@contextmanager
def printable_output() -> Iterator[None]:
    """While it lasts, everything written to stdout and stderr goes through ``printable``."""
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = PrintableStream(stdout), PrintableStream(stderr)  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout, sys.stderr = stdout, stderr


def _unwrapped(stream: TextIO) -> TextIO:
    return stream.inner if isinstance(stream, PrintableStream) else stream


class ProgressPrinter:
    """Fetch progress on stderr: one updating line on a terminal, a line per 10 % otherwise."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = _unwrapped(stream or sys.stderr)  # its own line updates pass; its text is made printable
        self.tty = self.stream.isatty()
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
            self.stream.write("\r\033[K" + printable(line).replace("\n", " "))
            if progress.total and progress.done >= progress.total:
                self.stream.write("\n")
        else:
            self.stream.write(printable(line) + "\n")
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
        lines = printable(message.content).split("\n")
        print(f"  [{message.role}] {lines[0]}", file=sys.stderr)
        for line in lines[1:]:
            print(f"  │ {line}", file=sys.stderr)  # a message cannot end early and forge the next one
    print(f"(end of what would be sent to {request.model_id} at {request.host})", file=sys.stderr)
    answer = input(
        f"Send it to {request.model_id} at {request.host}? [y] once, [a] always to {request.model_id} in this "
        "conversation, [N] not now: "
    )
    return {"y": Decision.ONCE, "yes": Decision.ONCE, "a": Decision.ALWAYS, "always": Decision.ALWAYS}.get(
        answer.strip().lower(), Decision.NOT_NOW
    )
