"""The write-ahead log (hearth.db-wal): found damaged before SQLite reads it, and recovered where it can be.

SQLite replays the log's frames up to the first one whose salt or checksum does
not match and silently drops every commit after it; its next checkpoint makes
that final. So Hearth reads the file first (format:
https://www.sqlite.org/fileformat2.html#walformat), before its first connection:

- Garbled: a frame fails its checksum while later frames of the same log (same
  salts) are intact and hold commits. Each frame is checked against the checksum
  stored in the frame before it, so the damaged frames are found one by one. The
  log is rebuilt without them (checksums recomputed; the header too, if it was
  the damaged part) only when every dropped frame's page is written again by a
  later intact, committed frame, so nothing a dropped frame held is still needed,
  and only once a copy of the database with the rebuilt log passes
  ``PRAGMA integrity_check``.
- Cut: the file ends inside a frame. The bytes after the cut are gone and no one
  can bring them back. A cut at a frame boundary looks like a log that ended
  there and cannot be seen at all.

Either way the file as it was is copied aside first (never deleted) and the user
is told. Nothing is done while the file changes (another copy of Hearth writing).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import struct
import sys
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from app.core.storage.backups import set_aside_folder

HEADER = 32
FRAME_HEADER = 24
MAGIC = {0x377F0682: False, 0x377F0683: True}  # the checksums' byte order: big-endian or not
VERSION = 3007000
MASK = 0xFFFFFFFF
SETTLE_S = 0.2  # a log that changes within this long is being written: not ours to judge


@dataclass(frozen=True)
class Frame:
    index: int
    page: int
    commit: int  # the database's size in pages after this commit; 0: not the last frame of a transaction
    intact: bool  # of this log (its salts) and matching the checksum chained from the frame before


@dataclass(frozen=True)
class WalScan:
    page_size: int
    big_endian: bool
    header_ok: bool
    sequence: int
    salts: tuple[int, int]
    frames: list[Frame]
    replayed: int  # frames SQLite replays: the sound start of the log, through its last commit
    tail: int  # bytes after the last whole frame

    @property
    def sound_start(self) -> int:
        """Frames before the first one SQLite stops at."""
        return next((f.index for f in self.frames if not f.intact), len(self.frames)) if self.header_ok else 0

    @property
    def dropped_commits(self) -> list[Frame]:
        """Intact commits after the damage: saved changes SQLite would drop."""
        return [f for f in self.frames[self.sound_start :] if f.intact and f.commit]

    @property
    def garbled(self) -> bool:
        return bool(self.dropped_commits)

    @property
    def cut(self) -> bool:
        return self.tail > 0


def _checksum(data: bytes, big_endian: bool, first: int = 0, second: int = 0) -> tuple[int, int]:
    words = struct.unpack(f"{'>' if big_endian else '<'}{len(data) // 4}I", data)
    for i in range(0, len(words), 2):
        first = (first + words[i] + second) & MASK
        second = (second + words[i + 1] + first) & MASK
    return first, second


def _page_size_ok(size: int) -> bool:
    return 512 <= size <= 65536 and size & (size - 1) == 0


def scan(data: bytes, page_size_hint: int) -> WalScan | None:
    """What the log holds and where it is damaged; None for a log with no frame in it."""
    if len(data) < HEADER + FRAME_HEADER:
        return None
    magic, _, page_size, sequence, salt1, salt2, sum1, sum2 = struct.unpack(">8I", data[:HEADER])
    big_endian = MAGIC.get(magic, sys.byteorder == "big")
    header_ok = magic in MAGIC and _page_size_ok(page_size) and _checksum(data[:24], big_endian) == (sum1, sum2)
    if not header_ok:  # rebuilt from what the rest of the file says
        page_size = page_size if _page_size_ok(page_size) else page_size_hint
        salt1, salt2 = struct.unpack(">2I", data[HEADER + 8 : HEADER + 16])
    size = FRAME_HEADER + page_size
    previous = (sum1, sum2)
    frames, replayed, sound = [], 0, header_ok
    for index in range((len(data) - HEADER) // size):
        start = HEADER + index * size
        page, commit, frame_salt1, frame_salt2, stored1, stored2 = struct.unpack(">6I", data[start : start + 24])
        body = data[start : start + 8] + data[start + FRAME_HEADER : start + size]
        ours = (frame_salt1, frame_salt2) == (salt1, salt2)
        intact = ours and _checksum(body, big_endian, *previous) == (stored1, stored2)
        frames.append(Frame(index, page, commit, intact))
        previous = (stored1, stored2)
        sound = sound and intact
        if sound and commit:
            replayed = index + 1
    tail = (len(data) - HEADER) % size
    return WalScan(page_size, big_endian, header_ok, sequence, (salt1, salt2), frames, replayed, tail)


def rebuilt(data: bytes, found: WalScan) -> bytes | None:
    """The log without its damaged frames, checksums chained anew; None when that would not be exact."""
    if not found.garbled:
        return None
    last = found.dropped_commits[-1].index
    kept = [f for f in found.frames[: last + 1] if f.intact]
    for frame in found.frames[found.sound_start : last]:
        later = [f for f in kept if f.index > frame.index]
        if not frame.intact and not any(f.page == frame.page for f in later):
            return None  # what this frame wrote is not written again: dropping it would lose it
    magic = next(m for m, big in MAGIC.items() if big == found.big_endian)
    header = struct.pack(">6I", magic, VERSION, found.page_size, found.sequence, *found.salts)
    checksum = _checksum(header, found.big_endian)
    out = [header + struct.pack(">2I", *checksum)]
    size = FRAME_HEADER + found.page_size
    for frame in kept:
        start = HEADER + frame.index * size
        page = data[start + FRAME_HEADER : start + size]
        checksum = _checksum(data[start : start + 8] + page, found.big_endian, *checksum)
        out.append(data[start : start + 8] + struct.pack(">4I", *found.salts, *checksum) + page)
    return b"".join(out)


@dataclass(frozen=True)
class WalFinding:
    """What was found in the log and done about it, for the user."""

    copy: Path  # the log as it was
    cut: bool
    recovered: int  # saved changes SQLite would have dropped, kept
    unrecovered: int  # saved changes after the damage that could not be brought back exactly

    def describe(self) -> str:
        parts = []
        if self.recovered:
            parts.append(
                "Part of the file SQLite writes your latest changes to first (hearth.db-wal) was damaged on "
                f"disk, so the last {self.recovered} saved changes would have been dropped without a word. "
                "Hearth rebuilt the file without the damaged part and checked the result: they are kept."
            )
        if self.unrecovered:
            parts.append(
                "Part of the file SQLite writes your latest changes to first (hearth.db-wal) was damaged on "
                f"disk. The last {self.unrecovered} saved changes come after the damaged part and cannot be "
                "brought back exactly, so your conversations are as they were before it."
            )
        if self.cut:
            parts.append(
                "The file of your latest changes (hearth.db-wal) ends in the middle of a change: a crash, a "
                "power cut or a failing disk cut the last write short. What was being written then is gone; "
                "everything saved before it is kept."
            )
        return " ".join(parts) + f" The file as it was is kept in {self.copy}."


def check(database: Path) -> WalFinding | None:
    """Look at the database's log before SQLite does; copy a damaged one aside and rebuild it where exact."""
    log = database.with_name(database.name + "-wal")
    if not os.access(database.parent, os.W_OK):
        return None  # a read-only disk: the database opens immutable, without its log, and nothing can be mended
    if not log.is_file() or not _damaged(log.read_bytes(), database):
        return None
    with FileLock(str(database.with_name(f".{log.name}.lock"))):  # two copies starting at once: one looks
        data = log.read_bytes()
        time.sleep(SETTLE_S)
        found = _damaged(data, database)
        if found is None or log.read_bytes() != data:
            return None  # repaired meanwhile, or being written: a live log
        copy = set_aside_folder(database) / log.name
        shutil.copy2(log, copy)
        recovered = unrecovered = 0
        if found.garbled:
            log_bytes = rebuilt(data, found)
            if log_bytes is not None and _replays_soundly(database, log_bytes):
                partial = log.with_name(log.name + ".rebuilt")
                partial.write_bytes(log_bytes)
                os.replace(partial, log)
                recovered = len(found.dropped_commits)
            else:
                unrecovered = len(found.dropped_commits)
        return WalFinding(copy, found.cut, recovered, unrecovered)


def _damaged(data: bytes, database: Path) -> WalScan | None:
    found = scan(data, _page_size(database))
    return found if found is not None and (found.garbled or found.cut) else None


def _page_size(database: Path) -> int:
    """The database file's own page size (its header, bytes 16-17), for a log whose header is damaged."""
    try:
        with database.open("rb") as handle:
            head = handle.read(18)
    except OSError:
        return 4096
    value = int.from_bytes(head[16:18], "big") if len(head) == 18 else 4096
    return 65536 if value == 1 else value if _page_size_ok(value) else 4096


def _replays_soundly(database: Path, log_bytes: bytes) -> bool:
    """Whether a copy of the database with this log opens and passes integrity_check."""
    with tempfile.TemporaryDirectory(prefix="hearth-wal-") as folder:
        copy = Path(folder) / "check.db"
        shutil.copyfile(database, copy)
        copy.with_name("check.db-wal").write_bytes(log_bytes)
        try:
            with closing(sqlite3.connect(copy)) as db:
                return db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        except sqlite3.Error:
            return False
