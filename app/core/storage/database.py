"""The SQLite connection under the Store: write transactions that wait their turn, and errors in words."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlite_utils import Database

from app.core.errors import StorageError
from app.core.storage import backups

Cls = TypeVar("Cls", bound=type)


class HearthDatabase(Database):
    """Write transactions take SQLite's write lock as they begin (BEGIN IMMEDIATE).

    With the default deferred BEGIN, a transaction that reads before it writes
    cannot upgrade once another copy of Hearth has written in between, and fails
    at once with "database is locked" instead of waiting its turn.
    """

    @contextmanager
    def atomic(self) -> Iterator[Database]:
        if self.conn.in_transaction:  # nested: sqlite-utils' savepoints
            with super().atomic():
                yield self
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            self.rollback()
            raise
        else:
            try:
                self.conn.execute("COMMIT")
            except BaseException:
                self.rollback()
                raise


def storage_error(exc: sqlite3.Error, path: Path) -> StorageError:
    """What a failing SQLite call means for the user, and what to do about it."""
    text = str(exc).lower()
    if path.is_dir():
        what = f"{path} is a folder, not a database. {backups.restore_advice(path)}"
    elif "disk is full" in text or "disk i/o error" in text:
        what = (
            f"The disk holding your conversations ({path.parent}) is full. Free some space and try again; "
            "everything saved before is kept."
        )
    elif "readonly" in text or "read-only" in text:
        what = (
            f"Your conversations file {path} is read-only, so nothing new can be saved. You can still read "
            "your conversations; check the file's permissions or the disk it is on."
        )
    elif "locked" in text or "busy" in text:
        what = f"Another program is holding {path} and did not let go within 10 s. Try again in a moment."
    elif "not a database" in text or "malformed" in text:
        what = f"{path} is damaged ({exc}). {backups.restore_advice(path)}"
    else:
        what = f"Your conversations file {path} could not be used ({exc})."
    return StorageError(what, file=path)


def translating_errors(cls: Cls) -> Cls:
    """Every public method raises StorageError, not a bare sqlite3 error (the instance has a ``path``)."""

    def wrap(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def translated(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, *args, **kwargs)
            except sqlite3.Error as exc:
                raise storage_error(exc, self.path) from None

        return translated

    for name, value in list(vars(cls).items()):
        if callable(value) and (not name.startswith("_") or name == "__init__"):
            setattr(cls, name, wrap(value))
    return cls
