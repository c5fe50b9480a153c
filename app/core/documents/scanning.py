"""What changed in a collection's folders since it was last indexed.

A file whose size and modification time are unchanged is not read again. One whose
content hash is unchanged is only renamed or touched in the index. A file that is gone
from one place and has appeared, byte for byte, at another was moved: its chunks and
vectors follow it, nothing is computed again. Everything else is new, changed or deleted.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from app.core.documents.extract import supported
from app.core.errors import FileError
from app.core.storage.document_index import FileRow
from app.core.user_files import check_regular, open_regular

Stat = tuple[int, float, str]  # size, mtime, sha256


@dataclass
class ScanPlan:
    new: list[tuple[Path, Stat]] = field(default_factory=list)
    changed: list[tuple[Path, Stat]] = field(default_factory=list)
    moved: list[tuple[FileRow, Path, Stat]] = field(default_factory=list)
    touched: list[tuple[FileRow, float]] = field(default_factory=list)  # same bytes, a new modification time
    deleted: list[FileRow] = field(default_factory=list)
    unchanged: int = 0

    @property
    def work(self) -> int:
        """Files that must be read and indexed."""
        return len(self.new) + len(self.changed)

    def summary(self) -> str:
        parts = [
            f"{len(self.new)} new",
            f"{len(self.changed)} changed",
            f"{len(self.moved)} moved",
            f"{len(self.deleted)} deleted",
            f"{self.unchanged + len(self.touched)} unchanged",
        ]
        return ", ".join(parts)


def files_under(roots: Sequence[Path]) -> Iterator[Path]:
    """The readable documents in ``roots`` (files or folders), hidden files and folders left out.

    Only ordinary files are taken: a pipe would hold the scan for ever, a device never ends. A
    link inside a folder is followed only to an ordinary file inside that same folder, so a link
    an unpacked archive carries ("notes.txt" to a file elsewhere) brings nothing else in.
    """
    seen: set[Path] = set()
    for root in roots:
        if root.is_file():
            candidates: Iterator[Path] = iter([root])
        else:
            candidates = _walk(root)
        for path in candidates:
            resolved = path.absolute()
            if resolved not in seen and supported(resolved):
                seen.add(resolved)
                yield resolved


def _walk(root: Path) -> Iterator[Path]:
    inside = os.path.realpath(root)
    for folder, dirs, names in os.walk(root, onerror=lambda _: None):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            path = Path(folder, name)
            if not name.startswith(".") and _ordinary_file_inside(path, inside):
                yield path


def _ordinary_file_inside(path: Path, root: str) -> bool:
    try:
        if stat.S_ISREG(os.lstat(path).st_mode):
            return True
        target = os.path.realpath(path)
        return stat.S_ISREG(os.stat(target).st_mode) and os.path.commonpath([root, target]) == root
    except (OSError, ValueError):  # gone, unreadable, or (Windows) on another drive
        return False


def sha256_of(path: Path) -> str:
    """The file's content hash; raises FileError when it is no longer an ordinary file."""
    digest = hashlib.sha256()
    with open_regular(path) as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def plan(indexed: Sequence[FileRow], found: Sequence[Path]) -> ScanPlan:
    """Compare the index's files with those ``found`` on disk now."""
    result = ScanPlan()
    by_path = {row.path: row for row in indexed}
    appeared: list[tuple[Path, Stat]] = []
    present: set[str] = set()
    for path in found:
        try:
            info = check_regular(path)
        except FileError:
            continue  # gone since it was found, or no longer an ordinary file
        present.add(str(path))
        row = by_path.get(str(path))
        if row is not None and row.size == info.st_size and row.mtime == info.st_mtime:
            result.unchanged += 1
            continue
        try:
            found_stat = (info.st_size, info.st_mtime, sha256_of(path))
        except (FileError, OSError):
            present.discard(str(path))
            continue
        if row is None:
            appeared.append((path, found_stat))
        elif row.sha256 == found_stat[2]:
            result.touched.append((row, info.st_mtime))
        else:
            result.changed.append((path, found_stat))
    gone: dict[str, list[FileRow]] = {}
    for row in indexed:
        if row.path not in present:
            gone.setdefault(row.sha256, []).append(row)
    for path, found_stat in appeared:
        same = gone.get(found_stat[2])
        if same:
            result.moved.append((same.pop(), path, found_stat))
        else:
            result.new.append((path, found_stat))
    result.deleted = [row for rows in gone.values() for row in rows]
    return result
