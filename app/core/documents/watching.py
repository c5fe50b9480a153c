"""Noticing changes in a collection's folders while Hearth runs, where the OS tells us.

watchdog wraps each OS's own change notification (inotify on Linux, FSEvents on macOS,
ReadDirectoryChangesW on Windows) behind one API, which beats three hand-written bindings.
Events are only a hint: a burst of them (a folder copied in, an editor's save dance) is
collected until the folder has been quiet for ``QUIET_S``, then the collection is reported
once and the caller rescans it — the rescan, not the event, decides what changed, so a
missed or doubled event costs nothing but a later rescan.

Where the OS gives no notifications (a network share, too many folders watched), watching
that folder fails quietly: rescanning on open and on demand still works.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

QUIET_S = 2.0  # a folder quiet this long after a change is rescanned


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: FolderWatcher, name: str, only: frozenset[str] | None):
        self.watcher = watcher
        self.name = name
        self.only = only  # a file root's folder is watched for that file alone

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return  # reading a file changes nothing (the indexer itself opens every file)
        if event.is_directory and event.event_type == "modified":
            return  # a folder's own time stamp: its files' events say what changed
        if self.only is not None and not self.only & {str(event.src_path), str(getattr(event, "dest_path", ""))}:
            return
        self.watcher.changed(self.name)


class FolderWatcher:
    """Calls ``on_change(collection name)`` once a changed folder of that collection is quiet again.

    ``on_change`` runs on a timer thread: a window passes it on to its own thread.
    """

    def __init__(self, on_change: Callable[[str], None], quiet_s: float = QUIET_S):
        self.on_change = on_change
        self.quiet_s = quiet_s
        self._lock = threading.Lock()
        self._timers: dict[str, threading.Timer] = {}
        self._observer: Observer | None = None
        self.watching: dict[str, list[Path]] = {}  # collection -> the folders actually watched

    def watch(self, roots: Mapping[str, Sequence[Path]]) -> None:
        """Watch these collections' roots instead of any before: folders with all they hold, files alone."""
        self.stop()
        observer = Observer()
        self.watching = {}
        for name, paths in roots.items():
            folders = [path for path in paths if path.is_dir()]
            files: dict[Path, set[str]] = {}
            for path in paths:
                if path.is_file():  # its folder, not recursively, for that file alone (not all of ~)
                    files.setdefault(path.parent, set()).add(str(path))
            # A root that is gone (unplugged, deleted) is not watched: the next rescan says so.
            for folder, only in [*((folder, None) for folder in folders), *files.items()]:
                handler = _Handler(self, name, None if only is None else frozenset(only))
                try:
                    observer.schedule(handler, str(folder), recursive=only is None)
                except OSError:
                    continue  # no notifications here (limit reached, a share): rescans still work
                self.watching.setdefault(name, []).append(folder)
        observer.daemon = True
        observer.start()
        self._observer = observer

    def changed(self, name: str) -> None:
        with self._lock:
            if self._observer is None:
                return
            previous = self._timers.get(name)
            if previous is not None:
                previous.cancel()
            timer = threading.Timer(self.quiet_s, self._quiet, args=(name,))
            timer.daemon = True
            self._timers[name] = timer
            timer.start()

    def _quiet(self, name: str) -> None:
        with self._lock:
            self._timers.pop(name, None)
            if self._observer is None:
                return
        self.on_change(name)

    def stop(self) -> None:
        with self._lock:
            observer, self._observer = self._observer, None
            for timer in self._timers.values():
                timer.cancel()
            self._timers.clear()
        if observer is not None:
            observer.stop()
            observer.join(5)
