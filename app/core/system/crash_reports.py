"""Crash reports that stay on this computer.

An uncaught Python exception (in any thread) writes a report into the data
folder's ``crash-reports``; a hard crash inside a native library (llama.cpp,
Qt) is caught by faulthandler into a per-process file in this user's temporary
folder, which the next start moves beside the others (a clean exit deletes it,
so nothing is left in the data folder by a run that did not crash). Nothing is
ever sent anywhere: the next start offers to show the report, and the user decides.

Reports carry the version, the platform and the traceback. Before a report is
written, every API key Hearth knows of is replaced by "[key removed]" and
e-mail addresses, phone numbers, card numbers, IBANs and IP addresses by
placeholders, as they would be before leaving the machine.
"""

from __future__ import annotations

import faulthandler
import getpass
import os
import platform
import shutil
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO

import psutil

from app import __version__
from app.core.config.key_names import PREFIX
from app.core.config.key_scrubbing import scrub_keys
from app.core.paths import CRASH_REPORTS
from app.core.privacy.redaction import Redaction

SEEN = "seen"
NATIVE = Path(tempfile.gettempdir()) / f"hearth-{getpass.getuser()}"

_fatal: IO[str] | None = None


def folder(data: Path) -> Path:
    return data / CRASH_REPORTS


def scrub(text: str, secrets: Iterable[str]) -> str:
    return Redaction().redact(scrub_keys(text, secrets))


def write_report(data: Path, error: BaseException, secrets: Iterable[str], where: str = "main thread") -> Path:
    """One report for one uncaught exception; returns its path."""
    reports = folder(data)
    reports.mkdir(parents=True, exist_ok=True, mode=0o700)
    now = datetime.now(UTC)
    trace = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    text = (
        f"Hearth {__version__} stopped because of an error it did not expect.\n"
        f"When: {now.isoformat(timespec='seconds')}\n"
        f"Where: {where}\n"
        f"System: {platform.platform()}, Python {platform.python_version()}\n\n{trace}"
    )
    path = reports / f"crash-{now:%Y%m%d-%H%M%S}-{os.getpid()}.txt"
    path.write_text(scrub(text, secrets), encoding="utf-8")
    return path


def install(data: Path, secrets: Callable[[], Iterable[str]], announce: Callable[[Path], None]) -> None:
    """Report uncaught exceptions (any thread) and native crashes from now on.

    ``secrets`` is asked for the key values to remove only when a report is written;
    ``announce`` tells the user where it went.
    """
    global _fatal

    def report(error: BaseException, where: str) -> None:
        try:
            found = list(secrets())
        except Exception:  # noqa: BLE001 - a configuration that cannot be read names no more keys
            found = [value for name, value in os.environ.items() if name.startswith(PREFIX)]
        try:
            path = write_report(data, error, found, where)
        except Exception:  # noqa: BLE001 - a failing report must not hide the original error
            print(f"hearth: an unexpected {type(error).__name__} stopped Hearth; no report was saved.", file=sys.stderr)
            return
        announce(path)

    def on_exception(kind: type[BaseException], error: BaseException, trace: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, error, trace)
            return
        report(error.with_traceback(trace), "main thread")

    def on_thread_exception(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            report(args.exc_value, f"thread {args.thread.name if args.thread else '?'}")

    sys.excepthook = on_exception
    threading.excepthook = on_thread_exception
    NATIVE.mkdir(exist_ok=True, mode=0o700)
    _fatal = (NATIVE / f"fatal-{os.getpid()}.txt").open("w", encoding="utf-8")
    _fatal.write(f"Hearth {__version__} crashed inside a native library.\nSystem: {platform.platform()}\n\n")
    _fatal.flush()
    faulthandler.enable(file=_fatal, all_threads=True)


def uninstall() -> None:
    """A clean exit: the native-crash file of this process held nothing and goes away."""
    global _fatal
    if _fatal is None:
        return
    faulthandler.disable()
    path = Path(_fatal.name)
    _fatal.close()
    _fatal = None
    path.unlink(missing_ok=True)


def pending(data: Path) -> list[Path]:
    """Reports not yet offered to the user, newest first; native crashes of ended processes join them."""
    reports = folder(data)
    for path in NATIVE.glob("fatal-*.txt") if NATIVE.is_dir() else []:
        pid = path.stem.removeprefix("fatal-")
        if not pid.isdigit() or int(pid) == os.getpid() or psutil.pid_exists(int(pid)):
            continue
        if "Fatal Python error" in path.read_text(encoding="utf-8", errors="replace"):
            reports.mkdir(parents=True, exist_ok=True, mode=0o700)
            stamp = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            shutil.move(path, reports / f"crash-{stamp:%Y%m%d-%H%M%S}-{pid}-native.txt")
        else:
            path.unlink(missing_ok=True)  # that process ended without crashing
    if not reports.is_dir():
        return []
    return sorted(reports.glob("*.txt"), key=lambda p: p.stat().st_mtime, reverse=True)


def mark_seen(path: Path) -> None:
    seen = path.parent / SEEN
    seen.mkdir(exist_ok=True)
    path.replace(seen / path.name)
