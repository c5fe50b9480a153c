"""One whole turn, fast: the chat service with scripted providers in place of the configured models,
a real SQLite store in the test's own Hearth home. What the user would see and what is kept."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from app.core.answers import Answer, AttemptStarted, Finished, TextDelta
from app.core.config.schema import Privacy
from app.core.conversation.chat import UserMessageSaved
from app.core.session import Session, open_session
from app.core.storage.rows import AttemptRow, ConversationRow, MessageRow
from tests.conftest import config_text, write_user_config
from tests.fakes import ScriptedProvider

QUESTION = "What is the capital of France?"


@pytest.fixture
def home(hearth_home: Path) -> Path:
    """Two tiers, as the tests' usual models.toml has them: "smollm2-135m" answers first on this computer,
    "server" is a server of the user's own. Scripted providers stand in for both: no model file is read."""
    text = config_text(Path("unused.gguf"), privacy="local-and-self-hosted", threshold=0.5)
    write_user_config(hearth_home, text)
    return hearth_home


@contextmanager
def session_with(small: ScriptedProvider, big: ScriptedProvider) -> Iterator[Session]:
    session = open_session(providers={"smollm2-135m": small, "server": big})
    try:
        yield session
    finally:
        session.close()


@dataclass
class Kept:
    """A finished turn: the answer as shown, and what the store kept of it."""

    answer: Answer | None  # None: stopped before it was finished
    shown: MessageRow
    attempts: list[AttemptRow]
    thread: list[MessageRow]
    conversation: ConversationRow


def turn(small: ScriptedProvider, big: ScriptedProvider, **options: Any) -> Kept:
    """Ask QUESTION in a new conversation, to the end."""
    with session_with(small, big) as session:
        events = list(session.chat.send(None, QUESTION, **options))
        ids = next(event for event in events if isinstance(event, UserMessageSaved))
        answer = next(event.answer for event in events if isinstance(event, Finished))
        return kept_in(session, ids, answer)


def kept_in(session: Session, ids: UserMessageSaved, answer: Answer | None) -> Kept:
    store = session.open_store()
    try:
        return Kept(
            answer,
            store.message(ids.answer_id),
            store.attempts(ids.answer_id),
            store.thread(ids.conversation_id),
            store.conversation(ids.conversation_id),
        )
    finally:
        store.close()


def test_an_unsure_local_answer_climbs_to_the_server_and_both_attempts_are_kept(home: Path):
    small = ScriptedProvider("smollm2-135m", "Lyon, I think.", 0.2)
    big = ScriptedProvider("server", "Paris is the capital of France.", 0.95, "self-hosted")
    kept = turn(small, big)
    assert kept.answer.tier == "self-hosted" and kept.answer.escalated and kept.answer.warning is None
    assert (small.calls, big.calls) == (1, 1)
    assert kept.shown.content == "Paris is the capital of France." and kept.shown.status == "complete"
    assert [(a.tier, a.model, a.text) for a in kept.attempts] == [
        ("local", "smollm2-135m", "Lyon, I think."),
        ("self-hosted", "server", "Paris is the capital of France."),
    ]
    assert kept.attempts[0].confidence < 0.5 <= kept.attempts[1].confidence
    assert kept.attempts[1].destination == big.label and kept.attempts[1].policy is Privacy.SELF_HOSTED
    assert [(m.role, m.content) for m in kept.thread] == [("user", QUESTION), ("assistant", kept.shown.content)]


def test_a_sure_local_answer_stops_the_climb_and_is_the_only_attempt(home: Path):
    big = ScriptedProvider("server", "Paris.", 0.99, "self-hosted")
    kept = turn(ScriptedProvider("smollm2-135m", "Paris.", 0.9), big)
    assert kept.answer.tier == "local" and not kept.answer.escalated
    assert big.calls == 0 and [a.tier for a in kept.attempts] == ["local"]
    assert (kept.attempts[0].tokens_in, kept.attempts[0].tokens_out) == (10, 1)


def test_a_conversation_kept_local_never_climbs_and_keeps_its_privacy(home: Path):
    big = ScriptedProvider("server", "Paris.", 0.99, "self-hosted")
    kept = turn(ScriptedProvider("smollm2-135m", "Lyon, I think.", 0.2), big, privacy=Privacy.LOCAL_ONLY)
    assert big.calls == 0 and [a.tier for a in kept.attempts] == ["local"]
    assert kept.answer.text == "Lyon, I think." and not kept.answer.escalated and kept.answer.warning
    assert kept.conversation.privacy is Privacy.LOCAL_ONLY


def test_when_the_server_is_unreachable_it_is_tried_again_and_the_local_answer_stays_on_show(home: Path):
    big = ScriptedProvider("server", "", None, "self-hosted", fail="connection refused")
    kept = turn(ScriptedProvider("smollm2-135m", "Lyon, I think.", 0.2), big)
    assert kept.answer.tier == "local" and not kept.answer.escalated and kept.answer.warning
    assert kept.shown.content == "Lyon, I think."
    assert big.calls == 3  # RetryPolicy.tries, its short waits included
    assert [(a.tier, a.error is None) for a in kept.attempts] == [("local", True)] + [("self-hosted", False)] * 3
    assert all("connection refused" in a.error for a in kept.attempts[1:])


def stopped(small: ScriptedProvider, big: ScriptedProvider, at: Callable[[object], bool]) -> tuple[Kept, object]:
    """Ask QUESTION and press Stop at the first event ``at`` accepts; what was kept, and that event."""
    with session_with(small, big) as session:
        stream = session.chat.send(None, QUESTION)
        ids = next(event for event in stream if isinstance(event, UserMessageSaved))
        last = next(event for event in stream if at(event))
        stream.close()  # the user pressed Stop
        return kept_in(session, ids, None), last


def test_stopping_while_the_answer_streams_keeps_what_arrived_marked_incomplete(home: Path):
    small = ScriptedProvider("smollm2-135m", "Paris is the capital of France.", 0.9)
    big = ScriptedProvider("server", "Paris.", 0.99, "self-hosted")
    kept, first = stopped(small, big, lambda event: isinstance(event, TextDelta))
    assert isinstance(first, TextDelta) and first.text == "Paris"
    assert kept.shown.status == "incomplete" and kept.shown.content == "Paris"
    question = kept.thread[0]
    assert question.content == QUESTION and question.status == "complete"


def test_stopping_as_the_stronger_model_starts_keeps_the_local_answer_on_show(home: Path):
    small = ScriptedProvider("smollm2-135m", "Lyon, I think.", 0.2)
    big = ScriptedProvider("server", "Paris.", 0.99, "self-hosted")
    kept, _ = stopped(small, big, lambda e: isinstance(e, AttemptStarted) and e.tier == "self-hosted")
    assert kept.shown.content == "Lyon, I think." and kept.shown.status == "incomplete"
    assert [(a.tier, a.text) for a in kept.attempts] == [("local", "Lyon, I think."), ("self-hosted", "")]
