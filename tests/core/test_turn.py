"""One whole turn, fast: the chat service with scripted providers in place of the configured models,
a real SQLite store in the test's own Hearth home. What the user would see and what is kept."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from app.core.answers import Answer, Finished, TextDelta
from app.core.config.schema import Privacy
from app.core.conversation.chat import ChatEvent, UserMessageSaved
from app.core.session import Session, open_session
from tests.conftest import write_user_config
from tests.fakes import ScriptedProvider

CONFIG = """
[settings]
privacy = "local-and-self-hosted"
threshold = 0.5
max_answer_tokens = 32

[[tiers]]
name = "local"
models = ["small"]

[[tiers]]
name = "self-hosted"
models = ["big"]

[models.small]
provider = "llama-cpp"
file = "small.gguf"

[models.big]
provider = "openai-compatible"
location = "self-hosted"
base_url = "http://127.0.0.1:9/v1"
model = "big"
"""

QUESTION = "What is the capital of France?"


@pytest.fixture
def home(hearth_home: Path) -> Path:
    write_user_config(hearth_home, CONFIG)
    return hearth_home


@contextmanager
def session_with(small: ScriptedProvider, big: ScriptedProvider) -> Iterator[Session]:
    session = open_session(providers={"small": small, "big": big})
    try:
        yield session
    finally:
        session.close()


def finished(events: list[ChatEvent]) -> Answer:
    return next(event.answer for event in events if isinstance(event, Finished))


def saved(events: list[ChatEvent]) -> UserMessageSaved:
    return next(event for event in events if isinstance(event, UserMessageSaved))


def test_an_unsure_local_answer_climbs_to_the_server_and_both_attempts_are_kept(home: Path):
    small = ScriptedProvider("small", "Lyon, I think.", 0.2)
    big = ScriptedProvider("big", "Paris is the capital of France.", 0.95, "self-hosted")
    with session_with(small, big) as session:
        events = list(session.chat.send(None, QUESTION))
        store = session.open_store()
        try:
            ids = saved(events)
            shown = store.message(ids.answer_id)
            attempts = store.attempts(ids.answer_id)
            thread = store.thread(ids.conversation_id)
        finally:
            store.close()
    answer = finished(events)
    assert answer.tier == "self-hosted" and answer.escalated and answer.warning is None
    assert (small.calls, big.calls) == (1, 1)
    assert shown.content == "Paris is the capital of France." and shown.status == "complete"
    assert [(a.tier, a.model, a.text) for a in attempts] == [
        ("local", "small", "Lyon, I think."),
        ("self-hosted", "big", "Paris is the capital of France."),
    ]
    assert attempts[0].confidence < 0.5 <= attempts[1].confidence
    assert attempts[1].destination == big.label and attempts[1].policy is Privacy.SELF_HOSTED
    assert [(m.role, m.content) for m in thread] == [("user", QUESTION), ("assistant", shown.content)]


def test_a_sure_local_answer_stops_the_climb_and_is_the_only_attempt(home: Path):
    small = ScriptedProvider("small", "Paris.", 0.9)
    big = ScriptedProvider("big", "Paris.", 0.99, "self-hosted")
    with session_with(small, big) as session:
        events = list(session.chat.send(None, QUESTION))
        store = session.open_store()
        try:
            attempts = store.attempts(saved(events).answer_id)
        finally:
            store.close()
    answer = finished(events)
    assert answer.tier == "local" and not answer.escalated
    assert big.calls == 0 and [a.tier for a in attempts] == ["local"]
    assert (attempts[0].tokens_in, attempts[0].tokens_out) == (10, 1)


def test_a_conversation_kept_local_never_climbs_and_keeps_its_privacy(home: Path):
    small = ScriptedProvider("small", "Lyon, I think.", 0.2)
    big = ScriptedProvider("big", "Paris.", 0.99, "self-hosted")
    with session_with(small, big) as session:
        events = list(session.chat.send(None, QUESTION, privacy=Privacy.LOCAL_ONLY))
        store = session.open_store()
        try:
            ids = saved(events)
            attempts = store.attempts(ids.answer_id)
            conversation = store.conversation(ids.conversation_id)
        finally:
            store.close()
    answer = finished(events)
    assert big.calls == 0 and [a.tier for a in attempts] == ["local"]
    assert answer.text == "Lyon, I think." and not answer.escalated and answer.warning
    assert conversation.privacy is Privacy.LOCAL_ONLY


def test_when_the_server_is_unreachable_it_is_tried_again_and_the_local_answer_stays_on_show(home: Path):
    small = ScriptedProvider("small", "Lyon, I think.", 0.2)
    big = ScriptedProvider("big", "", None, "self-hosted", fail="connection refused")
    with session_with(small, big) as session:
        events = list(session.chat.send(None, QUESTION))
        store = session.open_store()
        try:
            ids = saved(events)
            shown = store.message(ids.answer_id)
            attempts = store.attempts(ids.answer_id)
        finally:
            store.close()
    answer = finished(events)
    assert answer.tier == "local" and not answer.escalated and answer.warning
    assert shown.content == "Lyon, I think."
    assert big.calls == 3  # RetryPolicy.tries, its short waits included
    assert [(a.tier, a.error is None) for a in attempts] == [("local", True)] + [("self-hosted", False)] * 3
    assert all("connection refused" in a.error for a in attempts[1:])


def test_stopping_while_the_answer_streams_keeps_what_arrived_marked_incomplete(home: Path):
    small = ScriptedProvider("small", "Paris is the capital of France.", 0.9)
    big = ScriptedProvider("big", "Paris.", 0.99, "self-hosted")
    with session_with(small, big) as session:
        stream = session.chat.send(None, QUESTION)
        ids = next(event for event in stream if isinstance(event, UserMessageSaved))
        first = next(event for event in stream if isinstance(event, TextDelta))
        stream.close()  # the user pressed Stop
        store = session.open_store()
        try:
            kept = store.message(ids.answer_id)
            question = store.message(ids.message_id)
        finally:
            store.close()
    assert first.text == "Paris"
    assert kept.status == "incomplete" and kept.content == "Paris"
    assert question.content == QUESTION and question.status == "complete"
