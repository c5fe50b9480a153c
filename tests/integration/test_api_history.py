"""Programs' conversations in Hearth's history: kept only when the user turned it on, continued by follow-ups.

Hearth's API runs in this process over HTTP on the real model; llama-cpp-python's own server is
the self-hosted tier, so a request that climbs to it writes an audit row.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from app.core.api.access import ServerKey
from app.core.api.answering import ApiAnswers
from app.core.api.http import create_app
from app.core.api.server import ApiServer
from app.core.session import open_session
from app.core.storage.store import Store
from tests.conftest import REPO, config_text, write_user_config

pytestmark = pytest.mark.server

KEY = ServerKey("hearth-test-key", "a test")
EDITOR = "notes-app/2.1"
QUESTION = "What is the capital of France?"


@contextmanager
def serving(home: Path, config: str) -> Iterator[str]:
    write_user_config(home, config)
    session = open_session()
    server = ApiServer(create_app(ApiAnswers(session.chat, session.open_store), lambda: KEY), "127.0.0.1", 0)
    server.start()
    try:
        yield server.address
    finally:
        server.stop()
        session.close()


def ask(base_url: str, messages: list[dict[str, str]], client: str = EDITOR) -> str:
    answer = httpx.post(
        f"{base_url}/chat/completions",
        json={"model": "hearth", "messages": messages, "max_tokens": 8},
        headers={"Authorization": f"Bearer {KEY.value}", "User-Agent": client},
        timeout=120,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["choices"][0]["message"]["content"]


def every_row(database: Path) -> dict[str, list[tuple]]:
    """Each table of the database file with all its rows, read with sqlite3 itself."""
    with sqlite3.connect(database) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {table: db.execute(f'SELECT * FROM "{table}"').fetchall() for table in tables}


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def test_by_default_nothing_of_a_programs_conversation_is_written_but_the_audit(
    hearth_home: Path, model_file: Path, llama_server: str
):
    config = config_text(model_file, privacy="local-and-self-hosted", threshold=1.0, server_url=llama_server)
    with serving(hearth_home, config) as base_url:
        ask(base_url, [user("Warm up")])  # the database and its tables exist from here on
        database = hearth_home / "data" / "hearth.db"
        before = every_row(database)
        ask(base_url, [user(QUESTION)])
        after = every_row(database)
    changed = {table for table in after if after[table] != before.get(table)}
    assert changed == {"outbound"}, "the audit row of the call to the self-hosted tier, and nothing else"
    assert len(after["outbound"]) == len(before["outbound"]) + 1


@pytest.fixture
def keeping(hearth_home: Path, model_file: Path) -> Iterator[str]:
    with serving(hearth_home, f"{config_text(model_file)}\n[server]\nkeep_history = true\n") as base_url:
        yield base_url


def stored(home: Path) -> Store:
    return Store(home / "data" / "hearth.db")


def test_when_kept_a_follow_up_continues_the_same_conversation_named_for_its_program(keeping: str, hearth_home: Path):
    first = ask(keeping, [user(QUESTION)])
    follow_up = [user(QUESTION), {"role": "assistant", "content": first}, user("And of Italy?")]
    second = ask(keeping, [{"role": "system", "content": "Be brief."}, *follow_up])
    with stored(hearth_home) as store:
        (conversation,) = store.conversations()
        thread = [(m.role, m.content) for m in store.thread(conversation.id)]
        attempts = store.attempts(store.thread(conversation.id)[-1].id)
    assert conversation.api_client == EDITOR and conversation.title == QUESTION
    assert thread == [("user", QUESTION), ("assistant", first), ("user", "And of Italy?"), ("assistant", second)]
    assert attempts and attempts[0].model == "smollm2-135m"


def test_another_program_or_an_edited_turn_starts_a_conversation_of_its_own(keeping: str, hearth_home: Path):
    first = ask(keeping, [user(QUESTION)])
    ask(keeping, [user(QUESTION), {"role": "assistant", "content": first}, user("And of Italy?")], client="script/1")
    edited = [user(QUESTION), {"role": "assistant", "content": "Lyon."}, user("Are you sure?")]
    ask(keeping, edited)
    with stored(hearth_home) as store:
        conversations = {c.id: c for c in store.conversations()}
        threads = {c.api_client: [] for c in conversations.values()}
        for conversation in conversations.values():
            threads[conversation.api_client].append([m.content for m in store.thread(conversation.id)])
    assert len(conversations) == 3
    assert len(threads["script/1"]) == 1 and threads["script/1"][0][:3] == [QUESTION, first, "And of Italy?"]
    assert sorted(len(thread) for thread in threads[EDITOR]) == [2, 4]
    assert [QUESTION, "Lyon.", "Are you sure?"] in [thread[:3] for thread in threads[EDITOR]]


def test_kept_conversations_are_found_by_search_naming_the_program(keeping: str, hearth_home: Path):
    ask(keeping, [user("Lighthouses? <img src=https://e.example/x.png>")])
    with stored(hearth_home) as store:
        (hit, *_) = store.search("lighthouses")
    assert hit.conversation_api_client == EDITOR
    assert hit.conversation_title == "Lighthouses? <img src=https://e.example/x.png>", "as sent"
    searched = subprocess.run(
        [sys.executable, "-m", "app", "search", "lighthouses"],
        cwd=REPO,
        env={"HEARTH_HOME": str(hearth_home), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"(API: {EDITOR})" in searched
