"""The SQLite store: schema by migrations, round trips, and nothing lost when an answer stops."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database

from app.core.answers import Attempt, TextDelta
from app.core.session import open_session
from app.core.storage.migrations import MIGRATIONS, migrate
from app.core.storage.store import Store
from tests.conftest import database_before


def test_migrating_an_empty_database_creates_the_schema():
    db = Database(memory=True)
    applied = migrate(db)
    assert applied == [m.__name__ for m in MIGRATIONS]
    assert {"conversations", "messages", "attempts", "_migrations"} <= set(db.table_names())
    expected = {"tier", "model", "confidence", "signals", "latency_ms", "tokens_in", "tokens_out", "reason", "error"}
    assert expected <= set(db["attempts"].columns_dict)
    assert db["messages"].foreign_keys[0].other_table == "conversations"
    assert "warning" in db["messages"].columns_dict and "trigger" in db["attempts"].columns_dict
    assert "routing_events" in db.table_names()
    assert migrate(db) == []


def test_a_database_from_every_earlier_version_migrates_and_keeps_its_data(tmp_path: Path):
    for done in range(1, len(MIGRATIONS)):
        path = tmp_path / f"v{done}.db"
        old = database_before(path, MIGRATIONS[:done])
        when = "2026-01-01T09:30:00.000+00:00"  # as every version wrote it
        old["conversations"].insert({"id": 1, "title": "old", "created_at": when, "updated_at": when})
        message = {"id": 1, "conversation_id": 1, "role": "user", "content": "kept?", "status": "complete"}
        old["messages"].insert({**message, "created_at": when})
        old.close()

        store = Store(path)
        try:
            assert [m.content for m in store.messages(1)] == ["kept?"]
            assert {row["name"] for row in store.db["_migrations"].rows} == {m.__name__ for m in MIGRATIONS}
        finally:
            store.close()


def test_the_database_uses_wal_and_foreign_keys(tmp_path: Path):
    store = Store(tmp_path / "hearth.db")
    try:
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    finally:
        store.close()


def test_conversations_messages_and_attempts_round_trip(tmp_path: Path):
    path = tmp_path / "hearth.db"
    store = Store(path)
    conversation = store.create_conversation("Paris")
    store.add_message(conversation, "user", "What is the capital of France?")
    answer = store.add_message(conversation, "assistant", "Paris.")
    store.add_attempts(
        answer,
        [
            Attempt(
                "local",
                "smol",
                "local",
                text="Lyon?",
                confidence=0.1,
                signals={"n_tokens": 2},
                latency_ms=120.0,
                tokens_in=20,
                tokens_out=2,
                reason="Unsure",
            ),
            Attempt(
                "self-hosted", "server", "self-hosted", text="Paris.", latency_ms=300.0, tokens_out=3, reason="answered"
            ),
        ],
    )
    store.close()

    reopened = Store(path)
    try:
        assert [c.title for c in reopened.conversations()] == ["Paris"]
        messages = reopened.messages(conversation)
        assert [(m.role, m.content, m.status) for m in messages] == [
            ("user", "What is the capital of France?", "complete"),
            ("assistant", "Paris.", "complete"),
        ]
        attempts = reopened.attempts(answer)
        assert [(a.position, a.tier, a.text) for a in attempts] == [(0, "local", "Lyon?"), (1, "self-hosted", "Paris.")]
        assert attempts[0].confidence == 0.1 and attempts[0].signals == {"n_tokens": 2}
        assert attempts[0].tokens_in == 20 and attempts[1].confidence is None
    finally:
        reopened.close()


def test_a_stopped_answer_keeps_its_text_and_is_marked_incomplete(configured_home: Path):
    session = open_session()
    try:
        stream = session.chat.send(None, "Tell me a long story about a lighthouse keeper.")
        shown = ""
        for event in stream:
            if isinstance(event, TextDelta):
                shown += event.text
                if len(shown) > 20:
                    break
        stream.close()
        store = session.open_store()
        messages = store.messages(store.conversations()[0].id)
        store.close()
    finally:
        session.close()
    assert messages[-1].role == "assistant"
    assert messages[-1].status == "incomplete"
    assert messages[-1].content == shown


def test_a_follow_up_sees_the_earlier_turns(configured_home: Path):
    session = open_session()
    try:
        first = list(session.chat.send(None, "My name is Ada."))
        conversation = first[0].conversation_id
        seen: list[list[str]] = []
        local = session.registry.local()
        real_stream = local.stream

        def recording_stream(messages, *, max_tokens, sampling=None):
            seen.append([m.content for m in messages])
            return real_stream(messages, max_tokens=max_tokens, sampling=sampling)

        local.stream = recording_stream  # type: ignore[method-assign]
        list(session.chat.send(conversation, "What is my name?"))
        store = session.open_store()
        roles = [m.role for m in store.messages(conversation)]
        store.close()
    finally:
        session.close()
    assert roles == ["user", "assistant", "user", "assistant"]
    assert seen[0][1] == "My name is Ada." and seen[0][-1] == "What is my name?"


def test_the_database_file_is_a_plain_sqlite_file(tmp_path: Path):
    path = tmp_path / "hearth.db"
    Store(path).close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
