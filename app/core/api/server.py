"""Serving Hearth's API with uvicorn: from the calling thread (``hearth serve``) or a thread of its own (the window).

The socket is bound first, so a port in use is a clear error before anything starts.
Only the user binds another address than 127.0.0.1 (``--host``, or ``[server] host``);
``exposure`` says what that means, for both front ends to show.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time

import uvicorn
from starlette.types import ASGIApp

from app.core.errors import HearthError

START_WAIT_S = 10.0


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposure(host: str) -> str | None:
    """A warning when ``host`` lets other computers reach the API; None for this computer only."""
    if is_loopback(host):
        return None
    return (
        f"Hearth's API listens on {host}, so other computers that can reach this address can use it: anyone who "
        "has the key can ask your models, and send to remote models what your privacy policy allows. "
        "Use 127.0.0.1 unless you need this."
    )


def address(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/v1"


class ApiServer:
    def __init__(self, app: ASGIApp, host: str, port: int):
        self.host = host
        self.socket = _bind(host, port)
        self.port = int(self.socket.getsockname()[1])  # the one chosen, when port 0 asked for any
        config = uvicorn.Config(
            app,
            loop="asyncio",
            http="h11",
            lifespan="off",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=3,
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> str:
        return address(self.host, self.port)

    def run(self) -> None:
        """Serve until stopped (Ctrl+C, or ``stop`` from another thread)."""
        self._server.run(sockets=[self.socket])

    def start(self) -> None:
        """Serve from a thread of its own; returns once requests are accepted."""
        self._thread = threading.Thread(target=self.run, name="hearth-api-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + START_WAIT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise HearthError(f"Hearth's API could not start on {self.address}.")
            time.sleep(0.02)

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(START_WAIT_S)
        self.socket.close()


def _bind(host: str, port: int) -> socket.socket:
    sock: socket.socket | None = None
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        if sock is not None:
            sock.close()
        raise HearthError(
            f"Hearth's API cannot listen on {address(host, port)} ({exc.strerror or exc}). If another program "
            "uses that port, choose another with --port or `port` under [server] in models.toml."
        ) from None
    return sock
