"""A cut or garbled write-ahead log (hearth.db-wal) is found before SQLite reads it: garbled, it is rebuilt
and every saved change kept; cut, the user is told what is gone; either way the log as it was is kept
aside. A log another copy of Hearth is writing is left alone. A real crashed writer, real SQLite files."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from app.core.paths import user_paths
from app.core.storage import wal
from app.core.storage.store import Store
from app.ui.database_dialog import check_database
from app.ui.main import create_app
from tests.conftest import REPO
from tests.window_helpers import answer_dialogs, items, open_window

MESSAGES = 200
FRAME = 24 + 4096


def crashed_writer(database: Path, messages: int = MESSAGES, then: str = "os._exit(0)") -> subprocess.Popen[str]:
    """Hearth saving ``messages`` messages, one commit each, then killed before it could checkpoint."""
    database.parent.mkdir(parents=True, exist_ok=True)
    code = f"""
        import os, sys, time
        from pathlib import Path
        from app.core.storage.store import Store
        store = Store(Path({str(database)!r}))
        conversation = store.create_conversation("Saved one by one")
        for number in range({messages}):
            store.add_message(conversation, "user", f"message {{number}}")
        print("saved", flush=True)
        {then}
    """
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], cwd=REPO, stdout=subprocess.PIPE, text=True)


def crashed(database: Path) -> Path:
    assert crashed_writer(database).wait(60) == 0
    log = database.with_name("hearth.db-wal")
    found = wal.scan(log.read_bytes(), 4096)
    assert found is not None and not found.garbled and not found.cut and found.replayed > 300
    return log


def garble_frame(log: Path, frame: int, at: int = 24 + 100) -> bytes:
    """Sixteen bytes of a frame flipped: in its page (by default) or, with ``at`` < 24, in its header."""
    data = bytearray(log.read_bytes())
    start = 32 + frame * FRAME + at
    data[start : start + 16] = bytes(byte ^ 0xFF for byte in data[start : start + 16])
    log.write_bytes(bytes(data))
    return bytes(data)


def hearth(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, cwd=REPO, timeout=120)


def exported_messages(home: Path) -> list[str]:
    out = home / "all.json"
    done = hearth("export", str(out))
    assert done.returncode == 0, done.stderr
    return [m["content"] for c in json.loads(out.read_text())["conversations"] for m in c["messages"]]


def test_a_garbled_log_is_rebuilt_so_every_saved_message_is_kept_and_the_original_kept_aside(
    configured_home: Path,
):
    database = user_paths().database
    log = crashed(database)
    damaged = garble_frame(log, 150)
    done = hearth("search", "message")
    assert done.returncode == 0 and "Traceback" not in done.stderr
    assert "was damaged on disk" in done.stderr and "they are kept" in done.stderr
    (copy,) = (database.parent / "set-aside").glob("*/hearth.db-wal")
    assert copy.read_bytes() == damaged and str(copy) in done.stderr
    assert exported_messages(configured_home) == [f"message {n}" for n in range(MESSAGES)]


def test_a_garbled_frame_whose_page_cannot_be_told_is_named_not_guessed(configured_home: Path):
    database = user_paths().database
    log = crashed(database)
    garble_frame(log, 150, at=0)  # its page number and commit mark
    finding = wal.check(database)
    assert finding is not None and finding.recovered == 0 and finding.unrecovered > 0
    assert "cannot be brought back exactly" in finding.describe()
    store = Store(database)
    try:
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        kept = [m.content for m in store.messages(store.conversations()[0].id)]
    finally:
        store.close()
    assert kept == [f"message {n}" for n in range(len(kept))]  # what came before the damage, in order


def test_a_cut_log_is_named_and_kept_aside_and_what_came_before_the_cut_stays(configured_home: Path):
    database = user_paths().database
    log = crashed(database)
    data = log.read_bytes()
    log.write_bytes(data[: 32 + 150 * FRAME + 1000])
    done = hearth("search", "message")
    assert done.returncode == 0 and "ends in the middle of a change" in done.stderr
    (copy,) = (database.parent / "set-aside").glob("*/hearth.db-wal")
    assert copy.stat().st_size == 32 + 150 * FRAME + 1000
    kept = exported_messages(configured_home)
    assert 0 < len(kept) < MESSAGES and kept == [f"message {n}" for n in range(len(kept))]


def test_the_log_of_a_copy_of_hearth_that_is_running_is_left_alone(configured_home: Path):
    database = user_paths().database
    writer = crashed_writer(database, messages=50, then="time.sleep(60)")
    try:
        assert writer.stdout is not None and writer.stdout.readline() == "saved\n"
        assert wal.check(database) is None
        assert not (database.parent / "set-aside").exists()
    finally:
        writer.terminate()
        writer.wait(30)


def test_the_window_says_what_it_found_in_the_log_and_shows_every_message(qtbot, configured_home: Path):
    database = user_paths().database
    garble_frame(crashed(database), 150)
    create_app()
    shown = answer_dialogs("OK")
    assert check_database(database)
    assert "they are kept" in shown[0] and "The file as it was is kept in" in shown[0]
    with open_window(qtbot, prepare=False) as win:
        win.conversations.open_conversation(win.store.conversations()[0].id)
        win.chat.conversation.load_through(win.store, win.store.messages(win.conversations.conversation_id)[0].id)
        assert [item.text for item in items(win)] == [f"message {n}" for n in range(MESSAGES)]
