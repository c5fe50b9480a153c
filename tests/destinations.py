"""Destinations on 127.0.0.1 that record every connection made to them.

Each is a real OpenAI-compatible HTTP server: it answers, or fails the way remote
services fail (a 5xx, a stall past the client's read timeout, a stream cut short).
A refused destination is a port with nothing listening. Connections are counted
as they are accepted, in order, so after ``settle()`` the count is exact; every
request body is kept, to compare with what the audit says was sent.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.wire_formats import openai_stream

BEHAVIOURS = ("answers", "5xx", "timeout", "cut stream")
ANSWER = ["Lima", " is", " the", " capital."]
STALL_S = 5.0  # far past any read timeout the tests give; released by settle()
BARRIER = "/barrier"


class _Handler(BaseHTTPRequestHandler):
    server: _Recording

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(204)
        self.end_headers()

    def do_POST(self) -> None:  # noqa: N802
        owner = self.server.owner
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        with owner.lock:
            owner.bodies.append(body)
            behaviour, release = owner.behaviour, owner.release
        try:
            if behaviour == "timeout":
                release.wait(STALL_S)
                return
            if behaviour == "5xx":
                self._send(500, "application/json", json.dumps({"error": {"message": "Internal server error"}}))
                return
            if behaviour == "cut stream":  # two words, then the connection ends: no finish, no usage
                self._send(200, "text/event-stream", openai_stream(ANSWER[:2], finish=None, done=False))
                return
            self._send(200, "text/event-stream", openai_stream(ANSWER))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as it should after its timeout

    def _send(self, status: int, kind: str, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


class _Recording(ThreadingHTTPServer):
    daemon_threads = True
    owner: RecordingServer

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.owner.lock:  # accepted in order, by the one serving thread
            self.owner.accepted += 1
        super().process_request(request, client_address)


class RecordingServer:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.behaviour = "answers"
        self.release = threading.Event()
        self.accepted = 0
        self.barriers = 0
        self.bodies: list[dict[str, Any]] = []
        self._httpd = _Recording(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    @property
    def connections(self) -> int:
        return self.accepted - self.barriers

    def reset(self, behaviour: str) -> None:
        self.settle()
        with self.lock:
            self.behaviour = behaviour
            self.release = threading.Event()
            self.accepted = self.barriers = 0
            self.bodies = []

    def settle(self) -> None:
        """Wait until every connection made so far is counted and its request kept; end any stall."""
        self.release.set()
        with self.lock:
            self.barriers += 1
        barrier = http.client.HTTPConnection(*self._httpd.server_address[:2], timeout=10)
        try:  # accepted after every earlier connection
            barrier.request("GET", BARRIER)
            barrier.getresponse().read()
        finally:
            barrier.close()
        deadline = time.monotonic() + 10
        while len(self.bodies) < self.connections and time.monotonic() < deadline:
            time.sleep(0.001)

    def close(self) -> None:
        self.release.set()
        self._httpd.shutdown()
        self._httpd.server_close()
