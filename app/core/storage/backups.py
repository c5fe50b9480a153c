"""Backups of the database that are checked before they count.

A backup is made with SQLite's online backup API (consistent even while
Hearth writes) into a hidden ``.partial`` file, switched to a self-contained
single file (no -wal beside it), checked with ``PRAGMA integrity_check``,
flushed to disk and only then renamed to ``hearth-<UTC time>.db``. So a copy
with that name has passed its check when it was made: a full disk or a
damaged database leaves no 0-byte or failing file behind, and the earlier
copies stay as they were. Rotation drops copies that no longer pass a check
first, then the oldest, and never the copy just made.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from app.core.errors import StorageError

PATTERN = "hearth-*.db"
SQLITE_HEADER = b"SQLite format 3\x00"
STAMP = "%Y%m%d-%H%M%S-%f"


@dataclass(frozen=True)
class Backup:
    path: Path
    taken_at: datetime
    conversations: int
    messages: int

    def describe(self) -> str:
        when = self.taken_at.astimezone().strftime("%d %b %Y %H:%M")
        return f"{self.path.name}, from {when} ({self.conversations} conversations, {self.messages} messages)"


def reading(path: Path) -> sqlite3.Connection:
    """A read-only connection; on a read-only folder an immutable one (SQLite could not make its -shm there)."""
    immutable = "&immutable=1" if not os.access(path.parent, os.W_OK) else ""
    return sqlite3.connect(f"{path.as_uri()}?mode=ro{immutable}", uri=True)


def is_damage(found: str) -> bool:
    """Whether what a check found is damage, not a file this process cannot open or lock just now."""
    return not any(word in found.lower() for word in ("unable to open", "locked", "busy", "disk i/o", "readonly"))


def check(path: Path, quick: bool = False) -> str | None:
    """None when SQLite finds the database sound; else what it found, in its words."""
    if not path.is_file():
        return "it is not a file"
    with path.open("rb") as handle:
        if handle.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            return "it is not a SQLite database"  # an empty file would pass the pragma: it is an empty database
    try:
        with closing(reading(path)) as db:
            found = [row[0] for row in db.execute("PRAGMA quick_check" if quick else "PRAGMA integrity_check")]
    except sqlite3.Error as exc:
        return str(exc)
    return None if found == ["ok"] else "; ".join(found[:3])


def read_backup(path: Path) -> Backup:
    """What a backup holds, for the user to choose by (it has passed its check)."""
    stamp = path.stem.removeprefix("hearth-")
    try:
        taken = datetime.strptime(stamp, STAMP).replace(tzinfo=UTC)
    except ValueError:
        taken = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    with closing(reading(path)) as db:
        counts = [db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in ("conversations", "messages")]
    return Backup(path, taken, *counts)


def copies(folder: Path) -> list[Path]:
    """Every backup in the folder, oldest first."""
    return sorted(folder.glob(PATTERN)) if folder.is_dir() else []


def newest_good(folder: Path) -> Backup | None:
    """The newest backup that passes its check now (an older Hearth may have left failing ones)."""
    for path in reversed(copies(folder)):
        if check(path, quick=True) is None:
            try:
                return read_backup(path)
            except sqlite3.Error:
                continue  # sound, but not Hearth's: no conversations in it
    return None


def restore_advice(database: Path) -> str:
    """What to do about a damaged database, naming the newest backup that passed its check."""
    good = newest_good(database.parent / "backups")
    ways = "Close Hearth and run `hearth repair` (the window offers the same when it starts) to"
    if good is None:
        return f"There is no backup that passes its check. {ways} keep what can still be read, or start anew."
    return (
        f"The newest backup that passes its check is {good.describe()}. "
        f"{ways} restore it, keep what can still be read, or start anew."
    )


def set_aside_folder(database: Path) -> Path:
    """A new folder for what Hearth moves or copies out of the way (it never deletes it): set-aside/<time>."""
    parent = database.parent / "set-aside"
    parent.mkdir(exist_ok=True, mode=0o700)
    folder = parent / datetime.now(UTC).strftime(STAMP)
    folder.mkdir(mode=0o700)
    return folder


def backup(database: Path, folder: Path, keep: int) -> Backup:
    """A checked copy of the live database; then only the newest ``keep`` good copies are kept."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    for stale in folder.glob(".hearth-*.partial"):  # left by a backup that was cut short
        stale.unlink(missing_ok=True)
    target = folder / f"hearth-{datetime.now(UTC).strftime(STAMP)}.db"
    partial = folder / f".{target.name}.partial"
    try:
        _copy(database, partial)
        found = check(partial)
        if found is not None:
            raise _refused(database, folder, found)
        _flush(partial)
        os.replace(partial, target)
        _flush(folder)
    except (sqlite3.Error, OSError) as exc:
        raise _failed(exc, database, folder) from None
    finally:
        partial.unlink(missing_ok=True)
    prune(folder, keep, target)
    return read_backup(target)


def prune(folder: Path, keep: int, made: Path) -> None:
    """Keep the newest ``keep`` copies, dropping failing ones before good ones; never ``made``."""
    existing = copies(folder)
    extra = len(existing) - max(1, keep)
    if extra <= 0:
        return
    older = [path for path in existing if path != made]
    failing = [path for path in older if check(path, quick=True) is not None]
    for path in (failing + [p for p in older if p not in failing])[:extra]:
        path.unlink(missing_ok=True)


def _copy(database: Path, target: Path) -> None:
    if not database.is_file():
        raise sqlite3.OperationalError("unable to open database file")
    with closing(reading(database)) as source:
        with closing(sqlite3.connect(target)) as copy:
            source.backup(copy)
            copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file


def _flush(path: Path) -> None:
    """Make the copy (or its new name in the folder) durable before it counts."""
    if path.is_dir() and os.name != "posix":
        return  # folders cannot be opened for fsync on Windows; NTFS journals the rename
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _refused(database: Path, folder: Path, found: str) -> StorageError:
    source = check(database, quick=True)
    if source is None:
        return StorageError(
            f"The backup copy did not pass its check ({found}), although {database} does: the disk holding "
            f"{folder} may be failing. No backup was made; the earlier ones are kept.",
            file=folder,
        )
    return StorageError(
        f"{database} is damaged ({source}), so no backup was made: a copy would not restore. "
        f"The earlier backups are kept. {restore_advice(database)}",
        file=database,
    )


def _failed(exc: Exception, database: Path, folder: Path) -> StorageError:
    text = str(exc).lower()
    count = len(copies(folder))
    kept = {0: "There was no earlier backup.", 1: "The earlier backup is kept."}.get(
        count, f"The {count} earlier backups are kept."
    )
    if database.is_dir():
        return StorageError(f"{database} is a folder, not a database, so no backup was made. {kept}", file=database)
    if (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or "disk is full" in text:
        return StorageError(
            f"The disk holding your backups ({folder}) is full, so no backup was made. {kept} "
            "Free some space and try again.",
            file=folder,
        )
    if "malformed" in text or "not a database" in text:
        return StorageError(
            f"{database} is damaged ({exc}), so no backup was made. {kept} {restore_advice(database)}", file=database
        )
    return StorageError(f"No backup was made: {exc}. {kept}", file=database)
