"""The HTTP layer of Hearth's local API (Starlette): the key, the routes, and the stream. No rules live here.

Each request's answer runs on a thread of its own (the core is synchronous, and its
database connection stays on the thread that opened it); its events come to the event
loop through a queue. A program that goes away is noticed from the server's
``http.disconnect`` and its answer stops at the next token.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.api import wire
from app.core.api.access import ServerKey
from app.core.api.answering import ApiAnswers, Begun, Completed, Piece
from app.core.api.facts import started_headers
from app.core.api.refusals import BODY_TOO_LARGE, UNAUTHORIZED, UNKNOWN_PATH, Refusal, refusal_for
from app.core.errors import HearthError

MAX_BODY = 32 * 1024 * 1024  # images come inline; nothing larger is read
CLIENT_NAME_LENGTH = 80
_END = object()
_GONE = Response(status_code=499)  # nginx's "client closed request": the program went away before its answer


def create_app(api: ApiAnswers, key: Callable[[], ServerKey], cors_origins: Sequence[str] = ()) -> ASGIApp:
    """``key`` is read on every request, so a rotated key holds at once."""

    async def models(_: Request) -> Response:
        data = [wire.model_entry(model_id, owner) for model_id, owner in api.models()]
        return JSONResponse({"object": "list", "data": data})

    async def chat_completions(request: Request) -> Response:
        return await _answer(api, request)

    async def unknown(_: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        refusal = UNKNOWN_PATH if status == 404 else Refusal(status, "invalid_request_error", None)
        return _refused(refusal, "Hearth's API has /v1/models (GET) and /v1/chat/completions (POST).")

    app: ASGIApp = Starlette(
        routes=[
            Route("/v1/models", models, methods=["GET"]),
            Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        ],
        exception_handlers={404: unknown, 405: unknown},
    )
    app = _KeyRequired(app, key)
    if cors_origins:
        app = CORSMiddleware(app, allow_origins=list(cors_origins), allow_methods=["GET", "POST"], allow_headers=["*"])
    return app


class _KeyRequired:
    """Every request without the key is refused (401) before anything else is looked at."""

    def __init__(self, app: ASGIApp, key: Callable[[], ServerKey]):
        self.app = app
        self.key = key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self.key().admits(Headers(scope=scope).get("authorization")):
            response = _refused(
                UNAUTHORIZED,
                "Hearth's API needs its key: send 'Authorization: Bearer <key>'. The key is shown in Hearth's "
                "window (Tools → Local API).",
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _refused(refusal: Refusal, message: str) -> JSONResponse:
    return JSONResponse(wire.error_body(message, refusal.kind, refusal.code), status_code=refusal.status)


def _error(exc: HearthError) -> JSONResponse:
    return _refused(refusal_for(exc), str(exc))


def client_name(user_agent: str | None) -> str:
    """The calling program as the user is shown it: its User-Agent, one short printable line."""
    name = "".join(ch for ch in (user_agent or "") if " " <= ch <= "~").strip()
    return name[:CLIENT_NAME_LENGTH] or "a program that gave no name"


async def _answer(api: ApiAnswers, request: Request) -> Response:
    body = await _body(request)
    if body is None:
        return _refused(BODY_TOO_LARGE, f"The request is larger than {MAX_BODY // 2**20} MiB.")
    try:
        asked = wire.read_request(body)
    except HearthError as exc:
        return _error(exc)
    gone = threading.Event()
    watcher = asyncio.create_task(_watch(request.receive, gone))
    events = _Events(lambda: api.answer(asked, client_name(request.headers.get("user-agent")), gone), gone)
    streaming = False
    try:
        first = await events.next()
        if not isinstance(first, Begun):
            return _ended(api)
        if asked.stream:
            streaming = True  # from here the stream ends the watch
            stream = _stream(asked, first, events, gone, watcher)
            headers = started_headers(first.tier, first.model_id)
            return StreamingResponse(stream, media_type="text/event-stream", headers=headers)
        return await _whole(asked, events) or _ended(api)
    except HearthError as exc:
        return _error(exc)
    finally:
        if not streaming:
            gone.set()
            watcher.cancel()


async def _body(request: Request) -> bytes | None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        return None
    parts, size = [], 0
    async for part in request.stream():
        size += len(part)
        if size > MAX_BODY:
            return None
        parts.append(part)
    return b"".join(parts)


async def _watch(receive: Receive, gone: threading.Event) -> None:
    while not gone.is_set():
        if (await receive())["type"] == "http.disconnect":
            gone.set()


async def _whole(asked: wire.ChatRequest, events: _Events) -> Response | None:
    parts: list[Piece] = []
    while (event := await events.next()) is not None:
        if isinstance(event, Piece):
            parts.append(event)
        elif isinstance(event, Completed):
            if event.error:
                return _refused(Refusal(503, "server_error", "answer_broke_off"), event.error)
            logprobs = [e for p in parts for e in _logprobs(asked, p)] if asked.logprobs else None
            ident, used = wire.completion_id(), wire.usage(event.prompt_tokens, event.completion_tokens)
            body = wire.completion(
                ident, wire.now(), asked.model, "".join(p.text for p in parts), event.finish_reason, used, logprobs
            )
            body["hearth"] = event.facts.as_dict()
            return JSONResponse(body, headers=event.facts.headers())
    return None


def _ended(api: ApiAnswers) -> Response:
    """The answer ended before it was complete: the server is shutting down, or the program went away."""
    if api.closing:
        return _refused(Refusal(503, "server_error", "shutting_down"), "Hearth's API was turned off.")
    return _GONE


async def _stream(
    asked: wire.ChatRequest, begun: Begun, events: _Events, gone: threading.Event, watcher: asyncio.Task[None]
) -> AsyncIterator[bytes]:
    ident, created = wire.completion_id(), wire.now()
    try:
        yield _frame(wire.chunk(ident, created, asked.model, {"role": "assistant", "content": ""}))
        while (event := await events.next()) is not None:
            if isinstance(event, Piece):
                logprobs = _logprobs(asked, event) if asked.logprobs else None
                yield _frame(wire.chunk(ident, created, asked.model, {"content": event.text}, logprobs=logprobs))
            elif isinstance(event, Completed):
                if event.error:
                    yield _frame(wire.error_body(event.error, "server_error", "answer_broke_off"))
                    return
                facts = event.facts.as_dict()
                last = wire.chunk(ident, created, asked.model, {}, finish_reason=event.finish_reason)
                yield _frame({**last, "hearth": facts})
                if asked.include_usage:
                    used = wire.usage(event.prompt_tokens, event.completion_tokens)
                    yield _frame({**last, "choices": [], "usage": used, "hearth": facts})
        yield b"data: [DONE]\n\n"
    except HearthError as exc:
        refusal = refusal_for(exc)
        yield _frame(wire.error_body(str(exc), refusal.kind, refusal.code))
    finally:
        gone.set()
        watcher.cancel()


def _logprobs(asked: wire.ChatRequest, piece: Piece) -> list[dict[str, Any]]:
    return wire.token_logprobs(piece.text, piece.logprobs, piece.alternatives, asked.alternatives)


def _frame(data: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(data, ensure_ascii=False).encode() + b"\n\n"


class _Events:
    """The core's events for one request, produced on a thread of its own, awaited on the event loop."""

    def __init__(self, make: Callable[[], Iterator[object]], gone: threading.Event):
        self._loop = asyncio.get_running_loop()
        self._items: asyncio.Queue[object] = asyncio.Queue()
        self._gone = gone
        threading.Thread(target=self._produce, args=(make,), name="hearth-api-answer", daemon=True).start()

    def _produce(self, make: Callable[[], Iterator[object]]) -> None:
        events = make()
        try:
            for event in events:
                self._put(event)
                if self._gone.is_set():
                    break
        except Exception as exc:  # a HearthError is answered in OpenAI's shape; anything else is a 500
            self._put(exc)
        finally:
            events.close()
            self._put(_END)

    def _put(self, item: object) -> None:
        try:
            self._loop.call_soon_threadsafe(self._items.put_nowait, item)
        except RuntimeError:  # the server is shutting down: nobody is listening any more
            self._gone.set()

    async def next(self) -> object | None:
        """The next event (None at the end); what the answer raised is raised here."""
        item = await self._items.get()
        if item is _END:
            return None
        if isinstance(item, Exception):
            raise item
        return item
