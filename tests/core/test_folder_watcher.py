"""A collection's folder is watched: one rescan per burst of changes, none for reading its files."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from app.core.documents.watching import FolderWatcher


def watched(tmp_path: Path, quiet_s: float = 0.5) -> tuple[FolderWatcher, list[str], threading.Event, Path]:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "old.md").write_text("An old note.", "utf-8")
    told: list[str] = []
    arrived = threading.Event()

    def on_change(name: str) -> None:
        told.append(name)
        arrived.set()

    watcher = FolderWatcher(on_change, quiet_s=quiet_s)
    watcher.watch({"notes": [folder], "gone": [tmp_path / "unplugged"]})
    return watcher, told, arrived, folder


def test_a_burst_of_changes_is_told_once_after_the_folder_is_quiet(tmp_path: Path):
    watcher, told, arrived, folder = watched(tmp_path)
    try:
        assert watcher.watching == {"notes": [folder]}, "a folder that is not there is not watched"
        for number in range(20):
            (folder / f"new{number}.md").write_text(f"Note {number}.", "utf-8")
            time.sleep(0.05)
        assert arrived.wait(10)
        time.sleep(1.0)
        assert told == ["notes"]
    finally:
        watcher.stop()


def test_reading_the_files_tells_nothing_and_a_stopped_watcher_is_silent(tmp_path: Path):
    watcher, told, arrived, folder = watched(tmp_path, quiet_s=0.2)
    try:
        (folder / "old.md").read_text("utf-8")  # what the indexer does to every file
        assert not arrived.wait(1.0)
    finally:
        watcher.stop()
    (folder / "after.md").write_text("Written after stopping.", "utf-8")
    time.sleep(1.0)
    assert told == []


def test_a_single_file_root_is_watched_alone_not_the_folder_around_it(tmp_path: Path):
    (tmp_path / "letter.md").write_text("Dear Jo,", "utf-8")
    told: list[str] = []
    watcher = FolderWatcher(told.append, quiet_s=0.2)
    watcher.watch({"letters": [tmp_path / "letter.md"]})
    try:
        (tmp_path / "unrelated.txt").write_text("Not part of any collection.", "utf-8")
        time.sleep(1.0)
        assert told == []
        (tmp_path / "letter.md").write_text("Dear Jo, the key is in the boathouse.", "utf-8")
        time.sleep(1.0)
        assert told == ["letters"]
    finally:
        watcher.stop()
