"""Long conversations: they fit the small model's window, a rolling summary carries what scrolled out."""

from __future__ import annotations

import random
import subprocess
import sys
from concurrent.futures import wait
from pathlib import Path

import pytest

from app.core.answers import Finished, TextDelta
from app.core.conversation.summary import set_summary
from app.core.privacy.gate import ConsentRequest, Decision
from app.core.session import open_session
from app.core.storage.store import Store
from bench.store import build, vocabulary
from tests.conftest import REPO, config_text, write_user_config

FACT = "My sister Ingrid lives in Tromsø and keeps three goats."


def long_conversation(home: Path, turns: int) -> int:
    store = Store(home / "data" / "hearth.db")
    try:
        conversation = store.create_conversation("A long chat")
        for turn in range(turns):
            question = FACT if turn == 0 else f"Tell me one more thing about topic number {turn}, please."
            store.add_message(conversation, "user", question)
            store.add_message(conversation, "assistant", f"Here is a short note about topic {turn}: it is fine. " * 3)
        return conversation
    finally:
        store.close()


def recording(session):
    local = session.registry.local()
    seen: list[list[str]] = []
    real = local.stream

    def stream(messages, *, max_tokens, sampling=None):
        seen.append([m.content for m in messages])
        return real(messages, max_tokens=max_tokens, sampling=sampling)

    local.stream = stream
    return seen


def test_a_500_turn_conversation_is_answered_by_the_2048_token_model(configured_home: Path):
    conversation = long_conversation(configured_home, 500)
    session = open_session()
    try:
        seen = recording(session)
        events = list(session.chat.send(conversation, "What did we talk about last?"))
    finally:
        session.close()
    answer = next(e.answer for e in events if isinstance(e, Finished))
    assert answer.complete and answer.text
    assert answer.tokens_in + 48 <= 2048  # the prompt left room for the answer
    assert seen[0][-1] == "What did we talk about last?" and 3 < len(seen[0]) < 1001


def test_the_summary_is_updated_in_the_background_and_then_used(configured_home: Path):
    conversation = long_conversation(configured_home, 40)
    session = open_session()
    try:
        list(session.chat.send(conversation, "Thanks!"))
        wait(session.chat.background.submitted, timeout=300)
        store = session.open_store()
        summary = store.summary(conversation)
        store.close()
        assert summary is not None and summary.content and summary.covers_through > 0 and not summary.edited
        seen = recording(session)
        list(session.chat.send(conversation, "Where does my sister live?"))
    finally:
        session.close()
    system = seen[0][0]
    assert "Summary of the conversation so far:" in system and summary.content in system


@pytest.mark.server
def test_an_escalation_receives_the_summary_and_recent_turns_not_the_whole_history(
    hearth_home: Path, model_file: Path, llama_server: str
):
    write_user_config(
        hearth_home,
        config_text(
            model_file, privacy="cloud-with-consent", threshold=1.0, server_url=llama_server, server_location="cloud"
        ),
    )
    conversation = long_conversation(hearth_home, 60)
    asked: list[ConsentRequest] = []
    session = open_session(consent=lambda request: asked.append(request) or Decision.NOT_NOW)
    try:
        store = session.open_store()
        set_summary(store, conversation, "The user's sister Ingrid lives in Tromsø with three goats.")
        store.close()
        list(session.chat.send(conversation, "Where does my sister live?"))
    finally:
        session.close()
    sent = asked[0].messages
    assert "Ingrid lives in Tromsø" in sent[0].content
    assert len(sent) == 2 and sent[-1].content == "Where does my sister live?"


def test_the_user_can_read_and_rewrite_the_summary(configured_home: Path):
    conversation = long_conversation(configured_home, 3)

    def hearth(*args: str) -> str:
        return subprocess.run(
            [sys.executable, "-m", "app", *args], capture_output=True, text=True, cwd=REPO, timeout=60
        ).stdout

    assert "no summary yet" in hearth("summary", str(conversation))
    shown = hearth("summary", str(conversation), "--set", "We talked about goats.")
    assert "We talked about goats." in shown and "last written by you" in shown


def test_a_very_long_conversation_is_answered_from_its_tail_alone(configured_home: Path, monkeypatch):
    rng = random.Random(7)
    build(configured_home / "data" / "hearth.db", 20_000, 1, rng, vocabulary(rng))
    read: list[int] = []
    real = Store.thread

    def counting(self, conversation_id, limit=None, through=None):  # noqa: ANN001, ANN202 - Store.thread's own
        rows = real(self, conversation_id, limit=limit, through=through)
        read.append(len(rows))
        return rows

    monkeypatch.setattr(Store, "thread", counting)
    session = open_session()
    longest = max(model.n_ctx for model in session.config.models.values())  # 8,192: the server tier's
    try:
        events = session.chat.send(1, "What did we just talk about?")
        first = next(event for event in events if isinstance(event, TextDelta))
        events.close()
    finally:
        session.close()
    assert first.text
    assert read and max(read) <= longest // 8 + 1  # what the longest window could hold at most, not 20,000
