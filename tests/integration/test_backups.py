"""Backups count only once checked: a damaged database is not copied over good backups, a full disk leaves
no empty newest backup, rotation never pushes a good copy out, and the way back names a backup that passes
its check. Real SQLite files, real `hearth backup` commands, a real full disk (a tiny tmpfs)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.core.errors import StorageError
from app.core.storage import archive, backups
from app.core.storage.store import Store
from tests.conftest import REPO
from tests.integration.test_storage_faults import CHECK, run_on_small_disk
from tests.integration.test_storage_faults import pytestmark as needs_unshare


def hearth(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, cwd=REPO, timeout=120)


def filled(database: Path, conversations: int = 40) -> None:
    """A database of many pages, checkpointed into the file (as Hearth leaves it when it closes)."""
    database.parent.mkdir(parents=True, exist_ok=True)
    store = Store(database)
    try:
        for number in range(conversations):
            conversation = store.create_conversation(f"Conversation {number}")
            for turn in range(5):
                store.add_message(conversation, "user", f"Question {number}.{turn} " + "words " * 80)
                store.add_message(conversation, "assistant", f"Answer {number}.{turn} " + "more words " * 80)
    finally:
        store.close()


def garble(database: Path) -> None:
    """Garbage over a page of the messages in the middle of the file: a bad sector, a failing disk."""
    with closing(sqlite3.connect(database)) as db:
        pages = [row[0] for row in db.execute("SELECT pageno FROM dbstat WHERE name = 'messages' ORDER BY pageno")]
    with database.open("r+b") as handle:
        handle.seek((pages[len(pages) // 2] - 1) * 4096)  # SQLite counts pages from 1
        handle.write(os.urandom(4096))
    assert backups.check(database) is not None


@pytest.fixture
def database(configured_home: Path) -> Path:
    path = configured_home / "data" / "hearth.db"
    filled(path)
    return path


def test_a_damaged_database_is_not_backed_up_and_the_message_names_a_good_backup(database: Path):
    folder = database.parent / "backups"
    good = backups.backup(database, folder, keep=7)
    garble(database)
    done = hearth("backup")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "is damaged" in done.stderr and "so no backup was made" in done.stderr
    assert f"The newest backup that passes its check is {good.path.name}" in done.stderr
    assert backups.copies(folder) == [good.path] and backups.check(good.path) is None


def age(path: Path, days: float) -> None:
    when = (datetime.now(UTC) - timedelta(days=days)).timestamp()
    os.utime(path, (when, when))


def test_a_week_of_daily_upkeep_on_a_damaged_database_keeps_every_good_copy(database: Path):
    folder = database.parent / "backups"
    made = []
    for days_ago in (3, 2, 1.5):
        made.append(backups.backup(database, folder, keep=3).path)
        age(made[-1], days_ago)
    garble(database)
    store = Store(database)  # the damage is in a page opening does not read
    try:
        for _ in range(7):
            with pytest.raises(StorageError, match="so no backup was made"):
                archive.daily_upkeep(store, database, folder, backups_kept=3, retention_days=None)
            age(backups.copies(folder)[-1], 1.5)  # a day later
    finally:
        store.close()
    assert backups.copies(folder) == made
    assert all(backups.check(path) is None for path in made)


def test_rotation_drops_failing_copies_before_good_ones(tmp_path: Path):
    database = tmp_path / "hearth.db"
    filled(database, conversations=3)
    folder = tmp_path / "backups"
    old_good = backups.backup(database, folder, keep=3).path
    empty = folder / "hearth-20990101-000000-000000.db"  # what an older Hearth left on a full disk
    empty.touch()
    backups.backup(database, folder, keep=3)
    newest = backups.backup(database, folder, keep=3)
    assert old_good in backups.copies(folder) and not empty.exists()
    assert newest.path in backups.copies(folder) and len(backups.copies(folder)) == 3


def test_the_way_back_names_the_newest_backup_that_passes_its_check(database: Path):
    folder = database.parent / "backups"
    good = backups.backup(database, folder, keep=7)
    (folder / "hearth-20990101-000000-000000.db").touch()  # newer by name, and empty
    garble(database)
    done = hearth("export", str(database.parent / "all.json"))  # reads every page
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"The newest backup that passes its check is {good.path.name}" in done.stderr
    assert "hearth repair" in done.stderr


def test_hearth_backup_restore_puts_back_the_newest_good_copy_and_keeps_the_damaged_file(database: Path):
    folder = database.parent / "backups"
    good = backups.backup(database, folder, keep=7)
    garble(database)
    listed = hearth("backup", "--list")
    assert f"{good.path.name}, from " in listed.stdout and "passes its check" in listed.stdout
    restored = hearth("backup", "--restore")
    assert restored.returncode == 0 and f"Restored {good.path}" in restored.stdout, restored.stderr
    assert backups.check(database) is None
    (aside,) = (database.parent / "set-aside").iterdir()
    assert (aside / "hearth.db").is_file() and backups.check(aside / "hearth.db") is not None
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT COUNT(*) FROM conversations").fetchone()[0] == 40


@needs_unshare
def test_a_full_disk_during_a_backup_leaves_no_empty_newest_copy(tmp_path: Path, model_file: Path):
    out = run_on_small_disk(
        tmp_path,
        model_file,
        f"""
{sys.executable} -m app backup; echo "first backup: $?"
dd if=/dev/zero of={tmp_path}/disk/filler bs=4k 2>/dev/null
{sys.executable} -m app backup; echo "full backup: $?"
for copy in $HEARTH_HOME/data/backups/*; do
  echo "copy: $(basename $copy) $(stat -c %s $copy) $({sys.executable} -c "{CHECK}" $copy)"
done
rm {tmp_path}/disk/filler
""",
    )
    assert "first backup: 0" in out and "full backup: 1" in out, out
    assert "The disk holding your backups" in out and "is full, so no backup was made" in out, out
    assert "The earlier backup is kept" in out and "Traceback" not in out
    copies = [line for line in out.splitlines() if line.startswith("copy: ")]
    assert len(copies) == 1 and copies[0].endswith(" ok 2"), out  # the first, whole and sound
