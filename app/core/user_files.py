"""Reading and writing a file the user names: ordinary files only.

A path can name a device (``/dev/zero`` never ends, ``/dev/full`` is always
full), a FIFO (opening it waits for a writer for ever) or a folder. Whatever
Hearth reads or writes by a path it was given is checked first without
opening it, then again on the open file (so a swap in between is caught too),
and read with a limit that does not trust the size the file claims. Writes
go to a temporary file beside the target and replace it only when complete,
so a full disk leaves the old file as it was.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path
from typing import BinaryIO

from app.core.errors import FileError

_KINDS = {
    stat.S_IFDIR: "a folder",
    stat.S_IFCHR: "a device",
    stat.S_IFBLK: "a device",
    stat.S_IFIFO: "a pipe (FIFO)",
    stat.S_IFSOCK: "a socket",
}


def _kind(mode: int) -> str:
    return _KINDS.get(stat.S_IFMT(mode), "not an ordinary file")


def _not_regular(path: Path, mode: int) -> FileError:
    return FileError(f"{path} is {_kind(mode)}, not an ordinary file; Hearth only reads and writes ordinary files.")


def check_regular(path: Path) -> os.stat_result:
    """The file's status if ``path`` is an ordinary file (links followed); FileError otherwise. Never opens it."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise FileError(f"{path} does not exist.") from None
    except OSError as exc:
        raise FileError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    if not stat.S_ISREG(info.st_mode):
        raise _not_regular(path, info.st_mode)
    return info


def open_regular(path: Path) -> BinaryIO:
    """``path`` opened for reading if it is an ordinary file; a pipe or a device is refused, never waited on."""
    check_regular(path)
    try:
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise FileError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    file = os.fdopen(handle, "rb")
    mode = os.fstat(file.fileno()).st_mode
    if not stat.S_ISREG(mode):
        file.close()
        raise _not_regular(path, mode)
    return file


def read_regular(path: Path, limit: int | None = None, what: str = "file") -> bytes:
    """The bytes of an ordinary file, refused past ``limit`` bytes however large it says it is."""
    with open_regular(path) as file:
        try:
            data = file.read(-1 if limit is None else limit + 1)
        except OSError as exc:
            raise FileError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    if limit is not None and len(data) > limit:
        raise FileError(
            f"{path.name} is larger than {limit / 1e6:.0f} MB, the most Hearth takes for a {what}. "
            "Use a smaller part of it instead."
        )
    return data


def write_regular(path: Path, data: bytes) -> None:
    """Write ``data`` as the whole of ``path``, all or nothing."""
    if path.is_symlink():
        path = path.resolve()
    folder = path.parent
    if not folder.is_dir():
        raise FileError(f"The folder {folder} does not exist; choose a folder that does, or create it first.")
    if os.path.lexists(path) and not path.is_file():
        raise _not_regular(path, os.stat(path).st_mode)
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}-", suffix=".part")
    except OSError as exc:
        raise FileError(f"Cannot write into {folder}: {exc.strerror or exc}.") from None
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        hint = " Free some space and try again." if exc.errno == errno.ENOSPC else ""
        raise FileError(f"Could not write {path}: {exc.strerror or exc}; nothing was changed.{hint}") from None
