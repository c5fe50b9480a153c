"""A database that cannot be used: what is wrong with it, and the ways back.

A database that is a folder, is not a SQLite file, or fails ``PRAGMA
quick_check`` is diagnosed before anything opens it. The ways back: restore
the newest backup that passes its check, keep what can still be read (the
salvage), or start a new, empty database. Whichever the user takes, the
damaged file (with its -wal and -shm) is first moved into ``set-aside/<time>/``
beside it: never deleted.

The salvage reads what SQLite can still read, table by table: a scan, and
after the first page it cannot read, row by row (each row looked up by its
rowid, so one damaged page costs only the rows on it), into a new database
with Hearth's schema. It is Python's own sqlite3, so it works wherever Hearth
runs; the sqlite3 shell's ``.recover``, which also reads orphaned pages, is
not on most users' computers.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from app.core.errors import InvalidInput, StorageError
from app.core.storage import backups
from app.core.storage.backups import Backup
from app.core.storage.store import Store

# In the order rows refer to each other; a row whose conversation or message was lost is dropped.
TABLES = ("conversations", "messages", "attempts", "summaries", "feedback", "routing_events", "shadow_runs")
GIVE_UP_AFTER = 10_000  # unreadable or missing rowids in a row, when the table's last rowid cannot be read


@dataclass(frozen=True)
class Salvage:
    path: Path  # a new database holding what could be read
    conversations: int
    messages: int
    unreadable: int  # places SQLite could not read (rows on damaged pages, or whole damaged pages)

    def messages_after(self, when: datetime) -> int:
        with closing(backups.reading(self.path)) as db:
            since = when.isoformat(timespec="milliseconds")
            return int(db.execute("SELECT COUNT(*) FROM messages WHERE created_at > ?", [since]).fetchone()[0])


@dataclass(frozen=True)
class DatabaseProblem:
    database: Path
    what: str  # "is a folder, not a database"
    backup: Backup | None  # the newest that passes its check
    salvage: Salvage | None

    def describe(self) -> str:
        return f"Your conversations file {self.database} {self.what}."

    def lost_by_restoring(self) -> str:
        """What restoring the backup would lose, as far as the salvage can tell."""
        assert self.backup is not None
        if self.salvage is None:
            return "everything written after it"
        newer = self.salvage.messages_after(self.backup.taken_at)
        return f"everything written after it ({newer} messages that can still be read)"


@dataclass(frozen=True)
class Way:
    """One way back from a damaged database, as the window's button and the command line's option."""

    kind: str  # restore, salvage, new
    label: str
    detail: str


def ways(problem: DatabaseProblem) -> list[Way]:
    """The ways back this problem allows, the safest first."""
    found = []
    if problem.backup is not None:
        when = problem.backup.taken_at.astimezone().strftime("%d %b %Y %H:%M")
        backup = problem.backup
        held = f"{backup.path.name}, {backup.conversations} conversations and {backup.messages} messages"
        found.append(Way("restore", f"Restore the backup from {when}", f"{held}. Lost: {problem.lost_by_restoring()}."))
    if problem.salvage is not None and problem.salvage.messages:
        saved = problem.salvage
        found.append(
            Way(
                "salvage",
                "Keep what can still be read",
                f"{saved.conversations} conversations and {saved.messages} messages could be read; "
                f"{saved.unreadable} damaged places could not.",
            )
        )
    found.append(Way("new", "Start a new, empty database", "Your conversations start afresh."))
    return found


def take(problem: DatabaseProblem, kind: str) -> str:
    """Take one way back; returns what was done, in words (the damaged file is moved aside, never deleted)."""
    if kind == "restore" and problem.backup is not None:
        folder = restore(problem.database, problem.backup.path)
        done = f"Restored the backup {problem.backup.describe()}."
    elif kind == "salvage" and problem.salvage is not None:
        saved = problem.salvage
        folder = keep_salvaged(problem.database, saved)
        done = f"Kept what could be read: {saved.conversations} conversations, {saved.messages} messages."
    elif kind == "new":
        folder = start_new(problem.database)
        done = "Started a new, empty database."
    else:
        known = ", ".join(way.kind for way in ways(problem))
        raise InvalidInput(f"There is no way back called {kind!r} for this problem; there is: {known}.")
    return f"{done} The damaged file was moved to {folder}; nothing was deleted."


def diagnose(database: Path, scratch: Path) -> DatabaseProblem | None:
    """None when the database can be used; else what is wrong, the newest good backup, and a salvage."""
    if not database.exists():
        return None
    if database.is_dir():
        what = "is a folder, not a database"
    elif not database.is_file():
        what = "is not a regular file"
    else:
        with database.open("rb") as handle:
            head = handle.read(len(backups.SQLITE_HEADER))
        if not head:
            return None  # an empty file: SQLite starts a new database in it
        if head != backups.SQLITE_HEADER:
            what = "is not a SQLite database: another program may have written over it"
        else:
            found = backups.check(database, quick=True)
            if found is None or not backups.is_damage(found):
                return None  # sound, or busy or unreadable just now: opening it says which
            what = f"is damaged (SQLite's check says: {found})"
    good = backups.newest_good(database.parent / "backups")
    saved = salvage(database, scratch / "salvaged.db") if database.is_file() else None
    return DatabaseProblem(database, what, good, saved)


def salvage(database: Path, into: Path) -> Salvage | None:
    """Copy every row SQLite can still read into a new database at ``into``; None if nothing can be read."""
    try:
        source = backups.reading(database)
        source.text_factory = lambda data: data.decode("utf-8", "replace")
        source.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except sqlite3.Error:
        return None
    unreadable = 0
    with closing(source), Store(into) as target:
        with target.db.atomic():
            for table in TABLES:
                rows, missed = _readable_rows(source, table)
                unreadable += missed + _insert(target, table, rows)
            _mend_threads(target)
        counts = [target.db[table].count for table in ("conversations", "messages")]
    return Salvage(into, counts[0], counts[1], unreadable)


def _readable_rows(source: sqlite3.Connection, table: str) -> tuple[list[dict[str, Any]], int]:
    try:
        columns = [row[1] for row in source.execute(f"PRAGMA table_info({table})")]
    except sqlite3.Error:
        return [], 1
    rows: list[dict[str, Any]] = []
    if not columns:
        return rows, 0
    select = f"SELECT rowid, * FROM {table}"
    last = 0
    try:
        for row in source.execute(f"{select} ORDER BY rowid"):
            rows.append(dict(zip(["rowid", *columns], row, strict=True)))
            last = row[0]
        return rows, 0
    except sqlite3.DatabaseError:
        pass
    missed = 1
    for _, row in _row_by_row(source, f"{select} WHERE rowid = ?", table, last):
        if row is None:
            missed += 1
        else:
            rows.append(dict(zip(["rowid", *columns], row, strict=True)))
    return rows, missed


def _row_by_row(source: sqlite3.Connection, select: str, table: str, after: int) -> Iterator[tuple[int, Any]]:
    """Each rowid after ``after``: its row, or None where it cannot be read (missing rowids are skipped)."""
    try:
        top = source.execute(f"SELECT MAX(rowid) FROM {table}").fetchone()[0]
    except sqlite3.DatabaseError:
        top = None
    rowid, quiet = after, 0
    while (rowid < top) if top is not None else quiet < GIVE_UP_AFTER:
        rowid += 1
        try:
            row = source.execute(select, [rowid]).fetchone()
        except sqlite3.DatabaseError:
            quiet += 1
            yield rowid, None
            continue
        quiet = 0 if row is not None else quiet + 1
        if row is not None:
            yield rowid, row


def _insert(target: Store, table: str, rows: list[dict[str, Any]]) -> int:
    """Insert the rows Hearth's schema can take; returns how many could not be (their parent was lost)."""
    columns = set(target.db[table].columns_dict)
    if table == "messages":
        known = {row["id"] for row in target.db["conversations"].rows}
        for row in rows:
            if row.get("conversation_id") not in known and isinstance(row.get("conversation_id"), int):
                known.add(row["conversation_id"])
                stamp = str(row.get("created_at") or "1970-01-01T00:00:00")
                target.db["conversations"].insert(
                    {"id": row["conversation_id"], "title": f"Recovered conversation {row['conversation_id']}"}
                    | {"created_at": stamp, "updated_at": stamp}
                )
    failed = 0
    for row in rows:
        values = {key: value for key, value in row.items() if key in columns}
        names = ", ".join(f"[{key}]" for key in values)
        try:
            target.db.execute(
                f"INSERT INTO [{table}] ({names}) VALUES ({', '.join('?' * len(values))})", list(values.values())
            )
        except sqlite3.Error:
            failed += 1
    return failed


def _mend_threads(target: Store) -> None:
    """A message that followed a lost one follows the one before it; a lost leaf is the conversation's last."""
    target.db.execute(
        "UPDATE messages SET after_id = (SELECT MAX(p.id) FROM messages p WHERE "
        "p.conversation_id = messages.conversation_id AND p.id < messages.id) "
        "WHERE after_id IS NOT NULL AND after_id NOT IN (SELECT id FROM messages)"
    )
    target.db.execute("UPDATE messages SET parent_id = NULL WHERE parent_id NOT IN (SELECT id FROM messages)")
    target.db.execute(
        "UPDATE conversations SET leaf_id = (SELECT MAX(id) FROM messages WHERE conversation_id = conversations.id) "
        "WHERE leaf_id IS NULL OR leaf_id NOT IN (SELECT id FROM messages WHERE conversation_id = conversations.id)"
    )


def move_aside(database: Path) -> Path:
    """Move the database, its -wal and -shm into a new set-aside/<time> folder; returns that folder."""
    folder = backups.set_aside_folder(database)
    for path in (database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")):
        if path.exists() or path.is_symlink():
            shutil.move(path, folder / path.name)
    return folder


def restore(database: Path, backup: Path) -> Path:
    """Put a backup (checked again now) in the database's place; returns where the damaged file went."""
    found = backups.check(backup)
    if found is not None:
        raise StorageError(f"The backup {backup} does not pass its check ({found}); nothing was changed.", file=backup)
    incoming = database.with_name(f".{database.name}.restoring")
    shutil.copyfile(backup, incoming)
    folder = move_aside(database)
    incoming.replace(database)
    return folder


def keep_salvaged(database: Path, saved: Salvage) -> Path:
    """Put the salvaged copy in the database's place; returns where the damaged file went."""
    incoming = database.with_name(f".{database.name}.salvaged")
    shutil.move(saved.path, incoming)
    folder = move_aside(database)
    incoming.replace(database)
    return folder


def start_new(database: Path) -> Path:
    """Move the damaged file aside; the next start makes a new, empty database. Returns where it went."""
    return move_aside(database)
