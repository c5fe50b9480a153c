"""Edit and regenerate keep every earlier version as a branch the user can switch back to."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from app.core.answers import Finished
from app.core.session import open_session
from app.core.storage.store import Store
from tests.conftest import REPO


def run(events):
    events = list(events)
    return events[0], next(e.answer for e in events if isinstance(e, Finished))


def test_regenerating_keeps_the_first_answer_as_a_version(configured_home: Path):
    session = open_session()
    try:
        saved, _ = run(session.chat.send(None, "Name a colour."))
        saved_again, second = run(session.chat.regenerate(saved.answer_id))
        store = session.open_store()
        try:
            versions = store.versions(saved.answer_id)
            thread = store.thread(saved.conversation_id)
            store.show_version(saved.answer_id)
            back = store.thread(saved.conversation_id)
        finally:
            store.close()
    finally:
        session.close()
    assert [v.id for v in versions] == [saved.answer_id, saved_again.answer_id]
    assert [m.id for m in thread] == [saved.message_id, saved_again.answer_id] and thread[-1].content == second.text
    assert [m.id for m in back] == [saved.message_id, saved.answer_id]


def test_editing_a_question_starts_a_branch_and_the_old_one_stays(configured_home: Path):
    session = open_session()
    try:
        first, _ = run(session.chat.send(None, "What is the capital of France?"))
        follow, _ = run(session.chat.send(first.conversation_id, "And of Italy?"))
        edited, _ = run(
            session.chat.send(first.conversation_id, "What is the capital of Spain?", replaces=first.message_id)
        )
        store = session.open_store()
        try:
            on_show = [m.content for m in store.thread(first.conversation_id)]
            store.show_version(first.message_id)
            old_branch = [m.id for m in store.thread(first.conversation_id)]
            questions = [v.content for v in store.versions(edited.message_id)]
        finally:
            store.close()
    finally:
        session.close()
    assert on_show[0] == "What is the capital of Spain?" and len(on_show) == 2
    assert old_branch == [first.message_id, first.answer_id, follow.message_id, follow.answer_id]
    assert questions == ["What is the capital of France?", "What is the capital of Spain?"]


def test_versions_from_the_command_line(configured_home: Path):
    def hearth(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "app", *args], capture_output=True, text=True, cwd=REPO, timeout=120
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    first = json.loads(hearth("ask", "--json", "Name a fruit."))
    second = json.loads(hearth("regenerate", "--json", str(first["message_id"])))
    assert second["message_id"] != first["message_id"] and second["conversation_id"] == first["conversation_id"]
    listing = hearth("versions", str(first["message_id"]))
    assert f"  {first['message_id']} " in listing and f"* {second['message_id']} " in listing
    hearth("switch", str(first["message_id"]))
    store = Store(configured_home / "data" / "hearth.db")
    try:
        assert store.thread(first["conversation_id"])[-1].id == first["message_id"]
    finally:
        store.close()
