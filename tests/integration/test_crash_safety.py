"""A process killed mid-answer keeps every word it had shown, and the database stays sound."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from app.core.conversation.recording import INTERRUPTED
from app.core.errors import StorageError
from app.core.session import open_session
from app.core.storage.store import Store
from tests.conftest import REPO, config_text, write_user_config

KILLS = 3


def kill_mid_answer(question: str, after_s: float, command: str = "ask") -> str:
    """Run `hearth ask QUESTION` (or another command) in $HEARTH_HOME, SIGKILL it ``after_s`` into
    its answer; returns what it printed."""
    process = subprocess.Popen(
        [sys.executable, "-m", "app", command, question],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=REPO,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    printed = bytearray()
    first_at: list[float] = []  # when the answer began to print

    def read() -> None:
        while chunk := os.read(process.stdout.fileno(), 64):
            printed.extend(chunk)
            if not first_at:
                first_at.append(time.monotonic())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + 120
    while not first_at or time.monotonic() - first_at[0] < after_s:
        assert process.poll() is None, "the answer finished before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    reader.join(10)
    return printed.decode("utf-8", errors="ignore")


def test_sigkill_while_streaming_keeps_everything_that_was_shown(hearth_home: Path, model_file: Path):
    # Greedy without a repeat penalty: the small model writes this essay until the token limit.
    text = config_text(model_file, max_answer_tokens=2000)
    write_user_config(hearth_home, text.replace("threads = 2\n", "threads = 2\nrepeat_penalty = 1.0\n"))
    for kill in range(KILLS):
        printed = kill_mid_answer("Write an extremely long essay about the history of the world.", 1.5 + 0.4 * kill)
        store = Store(hearth_home / "data" / "hearth.db")
        try:
            answer = store.messages(store.conversations()[0].id)[-1]
        finally:
            store.close()
        assert answer.role == "assistant" and answer.status == "incomplete"
        assert len(printed) > 20 and answer.content.startswith(printed), (
            f"kill {kill + 1}: the database lost text that was printed"
        )
        with sqlite3.connect(hearth_home / "data" / "hearth.db") as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_copies_of_hearth_running_at_once_share_one_database_safely(hearth_home: Path, model_file: Path):
    write_user_config(hearth_home, config_text(model_file, max_answer_tokens=24))
    questions = ["Name a colour.", "Name a fruit.", "Name an animal."]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "app", "ask", question],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=REPO,
        )
        for question in questions
    ]
    errors = [process.communicate(timeout=180)[1].decode() for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0], errors

    store = Store(hearth_home / "data" / "hearth.db")
    try:
        conversations = store.conversations()
        asked = sorted(store.messages(c.id)[0].content for c in conversations)
        answers = [store.messages(c.id)[-1] for c in conversations]
    finally:
        store.close()
    assert asked == sorted(questions)
    assert all(a.role == "assistant" and a.status == "complete" and a.content for a in answers)
    with sqlite3.connect(hearth_home / "data" / "hearth.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.server
def test_sigkill_while_a_stronger_model_answers_again_keeps_both_answers(
    hearth_home: Path, model_file: Path, llama_server: str
):
    text = config_text(
        model_file, privacy="local-and-self-hosted", server_url=llama_server, max_answer_tokens=2000, threshold=0.0
    )  # the first answer stays here, so the re-ask goes up
    write_user_config(hearth_home, text.replace("threads = 2\n", "threads = 2\nrepeat_penalty = 1.0\n"))
    question = "Write an extremely long essay about the history of the world."
    done = subprocess.run(
        [sys.executable, "-m", "app", "ask", "--json", question], capture_output=True, text=True, cwd=REPO, timeout=300
    )
    first = json.loads(done.stdout)
    assert first["tier"] == "local", first["reason"]
    store = Store(hearth_home / "data" / "hearth.db")
    answer_id = store.messages(first["conversation_id"])[-1].id
    store.close()

    printed = kill_mid_answer(str(answer_id), 2.0, command="reask")

    store = Store(hearth_home / "data" / "hearth.db")
    try:
        kept = store.message(answer_id)
        attempts = store.attempts(answer_id)
    finally:
        store.close()
    assert kept.content == first["answer"]  # the earlier answer stays
    interrupted = [a for a in attempts if a.error == INTERRUPTED]
    assert len(interrupted) == 1 and interrupted[0].tier == "self-hosted"
    assert len(printed) > 20 and interrupted[0].text.startswith(printed)  # all that was shown, kept


def test_a_question_is_never_stored_without_its_answer_row(configured_home: Path):
    """The question, its empty answer (and a new conversation) are one transaction: when the answer
    row cannot be written, the question is not left behind on its own."""
    session = open_session()
    try:
        with session.open_store() as store:
            store.db.execute(
                "CREATE TRIGGER no_answers BEFORE INSERT ON messages WHEN NEW.role = 'assistant' "
                "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"
            )
        with pytest.raises(StorageError):
            list(session.chat.send(None, "Name a colour."))
        with session.open_store() as store:
            assert store.conversations() == [] and store.search("colour") == []
    finally:
        session.close()


def test_migrations_run_once_for_a_database_not_on_every_connection(tmp_path: Path, monkeypatch):
    from app.core.storage import store as store_module

    runs: list[Path] = []
    real = store_module.migrate
    monkeypatch.setattr(store_module, "migrate", lambda db: runs.append(db) or real(db))
    for _ in range(3):
        Store(tmp_path / "hearth.db").close()
    assert len(runs) == 1
    fresh = tmp_path / "again.db"
    Store(fresh).close()
    fresh.unlink()
    Store(fresh).close()  # a new file at the same place is migrated again
    assert len(runs) == 3
