"""A real HTTP server on 127.0.0.1 that fails the way remote services fail, in each service's format.

A provider pointed at ``{url}/{kind}/{fault}`` reaches this server over TCP; the
fault decides what it gets back. Used by tests/integration/test_faults.py and bench/faults.py.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

from app.core.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderOverloaded,
    ProviderRateLimited,
    ProviderRejected,
    ProviderStreamError,
    ProviderTimeout,
    ProviderUnreachable,
)
from tests.wire_formats import ERROR_BODIES, anthropic_stream, gemini_stream, openai_stream

KINDS = ("openai-compatible", "anthropic", "gemini")
PREFIX_WORDS = ["Paris", " is"]
# Far deeper than Python's recursive JSON parser follows (about 1,000 levels), and inside the 64 KiB of an error read.
NESTED = b"[" * 20_000
STALL_S = 4.0  # longer than the read timeout faulty tiers are given
READ_TIMEOUT_S = 0.5


@dataclass(frozen=True)
class Fault:
    name: str
    expected: type[ProviderError]
    partial: bool  # whether some text arrives before the failure
    base_url: str | None = None  # for faults that never reach this server


def faults(free_port: int) -> list[Fault]:
    return [
        Fault("refused connection", ProviderUnreachable, False, f"http://127.0.0.1:{free_port}"),
        Fault("DNS failure", ProviderUnreachable, False, "https://hearth-fault-test.invalid"),
        Fault("timeout before the first token", ProviderTimeout, False),
        Fault("stall mid-stream", ProviderTimeout, True),
        Fault("401", ProviderAuthError, False),
        Fault("429 with Retry-After", ProviderRateLimited, False),
        Fault("500", ProviderRejected, False),
        Fault("500 with a deeply nested body", ProviderRejected, False),
        Fault("529 overloaded", ProviderOverloaded, False),
        Fault("truncated stream", ProviderStreamError, True),
        Fault("invalid JSON", ProviderStreamError, True),
        Fault("deeply nested event", ProviderStreamError, True),
        Fault("endless reply", ProviderStreamError, True),
    ]


def _prefix(kind: str) -> str:
    """The healthy start of a stream: a role or start event and two words, no end."""
    if kind == "openai-compatible":
        return openai_stream(PREFIX_WORDS, finish=None, done=False)
    if kind == "anthropic":
        return anthropic_stream(PREFIX_WORDS, stop=None)
    return gemini_stream(PREFIX_WORDS, finish=None)


def _word_event(kind: str) -> bytes:
    """One more word, in the kind's format, for a reply that never ends."""
    if kind == "openai-compatible":
        data: object = {"choices": [{"index": 0, "delta": {"content": " and"}, "finish_reason": None}]}
        return f"data: {json.dumps(data)}\n\n".encode()
    if kind == "anthropic":
        data = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": " and"}}
        return f"event: content_block_delta\ndata: {json.dumps(data)}\n\n".encode()
    data = {"candidates": [{"content": {"parts": [{"text": " and"}], "role": "model"}, "index": 0}]}
    return f"data: {json.dumps(data)}\n\n".encode()


ERRORS = {
    "401": (401, "authentication_error", "invalid x-api-key", {}),
    "429 with Retry-After": (429, "rate_limit_error", "slow down", {"Retry-After": "1"}),
    "500": (500, "api_error", "Internal server error", {}),
    "529 overloaded": (529, "overloaded_error", "Overloaded", {}),
}


# Terminal control sequences a hostile answer may carry: a clipboard write (OSC 52), a window
# title, text hidden by SGR 8, a line rewritten by carriage return and erase, 8-bit CSI, a bidi override.
HOSTILE_WORDS = [
    "Sure.",
    "\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\x07",
    "\x1b]0;Hearth: all good\x07",
    " \x1b[8mhidden\x1b[0m",
    " safe\r\x1b[2Kforged",
    " \x9b31mred",
    " \u202eevil\u202c",
    "\tend\n",
]


def _presented_key(headers: object) -> str:
    for name in ("Authorization", "x-api-key", "x-goog-api-key"):
        value = headers.get(name)  # type: ignore[attr-defined]
        if value:
            return value.removeprefix("Bearer ")
    return ""


def key_echo(key: str) -> str:
    """What careless services send back about a refused key: it whole, escaped, encoded and masked."""
    masked = f"{key[:5]}***{key[-2:]}"
    return (
        f"Incorrect API key provided: {masked}. You sent {json.dumps(key)} (url: {quote(key)}, "
        f"repr: {key!r}, start: {key[:10]}...)"
    )


class _FaultyService(BaseHTTPRequestHandler):
    bodies: list[str] = []
    keys: list[str] = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        _, kind, fault = self.path.split("/", 3)[:3]
        fault = fault.replace("%20", " ")
        _FaultyService.bodies.append(body.decode())
        _FaultyService.keys.append(_presented_key(self.headers))
        try:
            if fault == "echo":  # an adversarial model: it repeats everything it was sent
                self._echo(body.decode())
                return
            if fault == "hostile answer":
                self._stream(openai_stream(HOSTILE_WORDS))
                return
            if fault == "echo key":  # a service that quotes the refused key back in its error
                self._refuse_key(kind)
                return
            self._answer(kind, fault)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading, as it should

    def _answer(self, kind: str, fault: str) -> None:
        if fault == "timeout before the first token":
            time.sleep(STALL_S)
            return
        if fault == "500 with a deeply nested body":
            self.send_response(500)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(NESTED)))
            self.end_headers()
            self.wfile.write(NESTED)
            return
        if fault in ERRORS:
            status, error_kind, message, headers = ERRORS[fault]
            body = json.dumps(ERROR_BODIES[kind](error_kind, message)).encode()
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        self.wfile.write(_prefix(kind).encode())
        self.wfile.flush()
        if fault == "stall mid-stream":
            time.sleep(STALL_S)
        elif fault == "truncated stream":
            self.wfile.write(b'data: {"choices": [{"index": 0, "del')
        elif fault == "invalid JSON":
            self.wfile.write(b"data: {this is not json}\n\n")
        elif fault == "deeply nested event":
            self.wfile.write(b"data: " + NESTED + b"\n\n")
        elif fault == "endless reply":
            word = _word_event(kind) * 64
            for _ in range(100_000):  # 100,000 x 64 words: hundreds of MB, unless the client stops
                self.wfile.write(word)

    def _echo(self, request: str) -> None:
        self._stream(openai_stream([request]))

    def _stream(self, events: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        self.wfile.write(events.encode())

    def _refuse_key(self, kind: str) -> None:
        echo = key_echo(_FaultyService.keys[-1])
        body = json.dumps(ERROR_BODIES[kind]("authentication_error", echo)).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def received() -> list[str]:
    """Every request body the server was sent, as text."""
    return list(_FaultyService.bodies)


def presented_keys() -> list[str]:
    """The API key each request carried ("" for none), as the server read it from its header."""
    return list(_FaultyService.keys)


@contextmanager
def fault_server() -> Iterator[str]:
    _FaultyService.bodies, _FaultyService.keys = [], []
    with serving(_FaultyService) as url:
        yield url


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """``handler`` serving on a free port of 127.0.0.1, on a thread; yields the base URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def base_url(server: str, kind: str, fault: Fault) -> str:
    return fault.base_url or f"{server}/{kind}/{fault.name.replace(' ', '%20')}"
