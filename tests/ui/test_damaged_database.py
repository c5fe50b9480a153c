"""A database that is a folder, not a database, or damaged: the window says what is wrong and offers the
newest checked backup (its date, and what would be lost), what can still be read, or a new database; the
damaged file is moved aside, never deleted. The command line says the same, with the commands to run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from app.core.paths import user_paths
from app.core.storage import backups
from app.core.storage.store import Store
from app.ui.database_dialog import check_database
from app.ui.main import create_app
from tests.conftest import REPO
from tests.integration.test_backups import filled, garble
from tests.window_helpers import answer_dialogs, open_window


def hearth(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, cwd=REPO, timeout=120)


def set_aside(database: Path) -> list[Path]:
    """The databases moved aside (with their -wal and -shm beside them)."""
    folder = database.parent / "set-aside"
    return [moved / database.name for moved in sorted(folder.iterdir())] if folder.is_dir() else []


def damaged_with_a_backup(database: Path) -> backups.Backup:
    """40 conversations backed up, two messages written after the backup, then a damaged page."""
    filled(database)
    good = backups.backup(database, database.parent / "backups", keep=7)
    store = Store(database)
    try:
        later = store.create_conversation("After the backup")
        store.add_message(later, "user", "Written after the backup")
        store.add_message(later, "assistant", "Also after it")
    finally:
        store.close()
    garble(database)
    return good


def test_a_database_that_is_a_folder_is_moved_aside_and_a_new_one_started(qtbot, configured_home: Path):
    database = user_paths().database
    (database / "notes").mkdir(parents=True)
    create_app()
    shown = answer_dialogs("Start a new, empty database", "OK")
    assert check_database(database)
    assert "is a folder, not a database" in shown[0] and "Start a new, empty database" in shown[0]
    assert "Restore the backup" not in shown[0]  # there is none
    assert "moved to" in shown[1] and "nothing was deleted" in shown[1]
    (moved,) = set_aside(database)
    assert moved.name == "hearth.db" and (moved / "notes").is_dir()
    with open_window(qtbot, prepare=False) as win:
        assert win.store.conversations() == []


def test_a_damaged_database_offers_the_newest_checked_backup_saying_when_and_what_is_lost(qtbot, configured_home: Path):
    database = user_paths().database
    good = damaged_with_a_backup(database)
    create_app()
    shown = answer_dialogs("Restore the backup", "OK")
    assert check_database(database)
    when = good.taken_at.astimezone().strftime("%d %b %Y %H:%M")
    assert "is damaged" in shown[0] and f"Restore the backup from {when}" in shown[0]
    assert f"{good.path.name}, 40 conversations and 400 messages." in shown[0]
    assert re.search(r"Lost: everything written after it \(\d+ messages that can still be read\)", shown[0])
    assert "Keep what can still be read" in shown[0] and "could be read" in shown[0]
    assert f"Restored the backup {good.path.name}" in shown[1]
    (moved,) = set_aside(database)
    assert backups.check(moved) is not None  # the damaged file, kept as it was
    with open_window(qtbot, prepare=False) as win:
        assert len(win.store.conversations()) == 40 and win.sidebar.list.count() == 40


def test_keeping_what_can_still_be_read_opens_the_salvaged_conversations(qtbot, configured_home: Path):
    database = user_paths().database
    damaged_with_a_backup(database)
    create_app()
    shown = answer_dialogs("Keep what can still be read", "OK")
    assert check_database(database)
    assert "Kept what could be read" in shown[1]
    assert backups.check(database) is None
    with open_window(qtbot, prepare=False) as win:
        titles = [row.title for row in win.store.conversations()]
        assert "After the backup" in titles and len(titles) >= 30  # more than the backup had
        win.conversations.open_conversation(
            next(row.id for row in win.store.conversations() if row.title == "After the backup")
        )
        assert win.chat.conversation.rowCount() == 2


def test_quitting_at_the_dialog_changes_nothing(qtbot, configured_home: Path):
    database = user_paths().database
    database.parent.mkdir(parents=True)
    garbage = os.urandom(8192)
    database.write_bytes(garbage)
    create_app()
    shown = answer_dialogs("Quit")
    assert not check_database(database)
    assert "is not a SQLite database" in shown[0]
    assert database.read_bytes() == garbage and set_aside(database) == []


def test_the_command_line_names_the_problem_and_the_commands_to_take_each_way_back(configured_home: Path):
    database = user_paths().database
    (database / "notes").mkdir(parents=True)
    folder = hearth("stats")
    assert (
        folder.returncode == 1 and "is a folder, not a database" in folder.stderr and "hearth repair" in folder.stderr
    )
    assert "Traceback" not in folder.stderr
    (database / "notes").rmdir()
    database.rmdir()
    damaged_with_a_backup(database)
    listed = hearth("repair")
    assert listed.returncode == 1 and "is damaged" in listed.stdout
    for command in ("hearth backup --restore", "hearth repair --salvage", "hearth repair --start-new"):
        assert command in listed.stdout
    salvaged = hearth("repair", "--salvage")
    assert salvaged.returncode == 0 and "Kept what could be read" in salvaged.stdout, salvaged.stderr
    assert hearth("repair").stdout.endswith("passes its check; there is nothing to repair.\n")
    assert "After the backup" in hearth("search", "after").stdout
    assert len(set_aside(database)) == 1
