"""A real HTTP server on 127.0.0.1 that fails the way remote services fail, in each service's format.

A provider pointed at ``{url}/{kind}/{fault}`` reaches this server over TCP; the
fault decides what it gets back. Used by tests/test_faults.py and bench/faults.py.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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
        Fault("DNS failure", ProviderUnreachable, False, "http://hearth-fault-test.invalid"),
        Fault("timeout before the first token", ProviderTimeout, False),
        Fault("stall mid-stream", ProviderTimeout, True),
        Fault("401", ProviderAuthError, False),
        Fault("429 with Retry-After", ProviderRateLimited, False),
        Fault("500", ProviderRejected, False),
        Fault("529 overloaded", ProviderOverloaded, False),
        Fault("truncated stream", ProviderStreamError, True),
        Fault("invalid JSON", ProviderStreamError, True),
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


class _FaultyService(BaseHTTPRequestHandler):
    bodies: list[str] = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        _, kind, fault = self.path.split("/", 3)[:3]
        fault = fault.replace("%20", " ")
        _FaultyService.bodies.append(body.decode())
        try:
            if fault == "echo":  # an adversarial model: it repeats everything it was sent
                self._echo(body.decode())
                return
            self._answer(kind, fault)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading, as it should

    def _answer(self, kind: str, fault: str) -> None:
        if fault == "timeout before the first token":
            time.sleep(STALL_S)
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
        elif fault == "endless reply":
            word = _word_event(kind) * 64
            for _ in range(100_000):  # 100,000 x 64 words: hundreds of MB, unless the client stops
                self.wfile.write(word)

    def _echo(self, request: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        self.wfile.write(openai_stream([request]).encode())

    def log_message(self, *args: object) -> None:
        pass


def received() -> list[str]:
    """Every request body the server was sent, as text."""
    return list(_FaultyService.bodies)


@contextmanager
def fault_server() -> Iterator[str]:
    _FaultyService.bodies = []
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
