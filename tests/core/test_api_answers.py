"""The local API's answers in-process: the fair line per model, and a program that goes away stops its answer."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.core.api.access import ServerKey
from app.core.api.answering import ApiAnswers, Begun, Completed, Piece
from app.core.api.http import create_app
from app.core.api.queue import FairQueue
from app.core.api.server import ApiServer, exposure
from app.core.api.wire import read_request
from app.core.errors import QueueFull
from app.core.session import Session, open_session
from tests.conftest import config_text, write_user_config

KEY = ServerKey("hearth-test-key", "a test")
LONG = {"model": "hearth", "messages": [{"role": "user", "content": "Count from one to five hundred."}]}


def request(**fields: object):
    return read_request(json.dumps({**LONG, **fields}).encode())


@pytest.fixture
def session(hearth_home: Path, model_file: Path) -> Iterator[Session]:
    write_user_config(hearth_home, f"{config_text(model_file)}\n[server]\nqueue = 1\n")
    opened = open_session()
    yield opened
    opened.close()


def until(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.02)


def test_requests_for_one_model_are_answered_first_come_first_served():
    line = FairQueue(limit=8)
    order: list[int] = []
    gone = threading.Event()
    release = threading.Event()

    def wait_turn(number: int) -> None:
        with line.turn("model", gone):
            order.append(number)
            if number == 0:
                release.wait(10)

    threads = []
    for number in range(5):
        thread = threading.Thread(target=wait_turn, args=(number,))
        thread.start()
        threads.append(thread)
        until(lambda n=number: len(line) == n + 1)  # each is in line before the next comes
    release.set()
    for thread in threads:
        thread.join(10)
    assert order == [0, 1, 2, 3, 4]


def test_a_full_line_refuses_at_once_and_one_that_left_gives_its_place_back():
    line = FairQueue(limit=1)
    gone, left = threading.Event(), threading.Event()
    admitted: list[bool] = []

    def wait_turn() -> None:
        with line.turn("model", left) as turn:
            admitted.append(turn)

    with line.turn("model", gone) as first:
        assert first
        waiting = threading.Thread(target=wait_turn)
        waiting.start()
        until(lambda: len(line) == 2)
        with pytest.raises(QueueFull, match="server.queue = 1"), line.turn("model", gone):
            pass
        with line.turn("other-model", gone) as other:
            assert other, "each model has its own line"
        left.set()  # the waiting program went away
        waiting.join(10)
        assert admitted == [False] and len(line) == 1
    assert len(line) == 0


def test_an_answer_stops_within_one_token_of_the_program_going_away(session: Session):
    answers = ApiAnswers(session.chat, session.open_store)
    gone = threading.Event()
    events = answers.answer(request(max_tokens=400), "test", gone)
    assert isinstance(next(events), Begun)
    pieces = [next(events) for _ in range(3)]
    assert all(isinstance(p, Piece) for p in pieces)
    gone.set()
    assert list(events) == [], "nothing more is generated once the program is gone"
    local = session.registry.local()
    assert local._lock.acquire(blocking=False), "the model is free for the next request"
    local._lock.release()
    assert answers.in_progress() == 0


def test_a_second_request_waits_its_turn_and_a_third_is_refused(session: Session):
    answers = ApiAnswers(session.chat, session.open_store)
    gone = threading.Event()
    first = answers.answer(request(max_tokens=400), "first", gone)
    assert isinstance(next(first), Begun)  # it holds the model
    second_events: list[object] = []
    second = threading.Thread(
        target=lambda: second_events.extend(answers.answer(request(max_tokens=2), "second", threading.Event()))
    )
    second.start()
    until(lambda: answers.in_progress() == 2)
    with pytest.raises(QueueFull):
        next(answers.answer(request(max_tokens=2), "third", threading.Event()))
    assert second_events == [], "the second waits while the first is answered"
    first.close()
    second.join(120)
    assert isinstance(second_events[-1], Completed)


def test_a_stream_whose_program_disconnects_frees_the_model(session: Session):
    answers = ApiAnswers(session.chat, session.open_store)
    server = ApiServer(create_app(answers, lambda: KEY), "127.0.0.1", 0)
    server.start()
    try:
        body = {**LONG, "stream": True, "max_tokens": 1500}
        headers = {"Authorization": f"Bearer {KEY.value}"}
        with httpx.stream("POST", f"{server.address}/chat/completions", json=body, headers=headers) as response:
            assert response.status_code == 200
            lines = response.iter_lines()
            received = [line for line, _ in zip(lines, range(6), strict=False) if line.startswith("data:")]
            assert received and answers.in_progress() == 1
        until(lambda: answers.in_progress() == 0)
    finally:
        server.stop()


def serving(session: Session, cors: tuple[str, ...] = ()) -> ApiServer:
    server = ApiServer(create_app(ApiAnswers(session.chat, session.open_store), lambda: KEY, cors), "127.0.0.1", 0)
    server.start()
    return server


def test_a_model_that_cannot_load_is_answered_with_503_saying_why(hearth_home: Path, tmp_path: Path):
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\0" * 64)
    write_user_config(hearth_home, config_text(broken))
    session = open_session()
    server = serving(session)
    try:
        body = {**LONG, "max_tokens": 4}
        answer = httpx.post(
            f"{server.address}/chat/completions", json=body, headers={"Authorization": "Bearer " + KEY.value}
        )
    finally:
        server.stop()
        session.close()
    assert answer.status_code == 503
    error = answer.json()["error"]
    assert error["code"] == "model_unavailable" and "broken.gguf" in error["message"]


def test_web_pages_may_call_it_only_from_origins_the_user_listed(session: Session):
    server = serving(session, ("http://localhost:3000",))
    try:
        asked = {"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"}
        allowed = httpx.options(f"{server.address}/chat/completions", headers=asked)
        other = httpx.options(f"{server.address}/chat/completions", headers={**asked, "Origin": "http://evil.test"})
    finally:
        server.stop()
    assert allowed.headers.get("access-control-allow-origin") == "http://localhost:3000"
    assert "access-control-allow-origin" not in other.headers


def test_with_no_origins_listed_no_page_is_let_in(session: Session):
    server = serving(session)
    try:
        asked = {"Origin": "http://localhost:3000", "Authorization": f"Bearer {KEY.value}"}
        listed = httpx.get(f"{server.address}/models", headers=asked)
    finally:
        server.stop()
    assert listed.status_code == 200 and "access-control-allow-origin" not in listed.headers


def test_another_address_than_this_computer_is_warned_about():
    assert exposure("127.0.0.1") is None and exposure("::1") is None and exposure("localhost") is None
    assert "other computers" in (exposure("0.0.0.0") or "") and "key" in (exposure("192.168.1.5") or "")
