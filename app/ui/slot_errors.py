"""An error nobody expected, in something the window was doing: shown to the user, kept in a crash report.

Qt calls Python slots and event handlers from C++; an exception raised there
goes to ``sys.excepthook`` and that one action stops without a word. This hook,
installed once when the window starts, writes a crash report for it
(app/core/system/crash_reports.py: keys and personal details removed; it stays on
this computer, and once shown it is marked seen, so the next start does not
offer it again) and shows a dialog in plain text. Hearth keeps running. An error of
Hearth's own, whose message says what to do, is shown without a report. Each
distinct error is shown once a session, so one that repeats at every repaint
does not bury the window in dialogs.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication, QMessageBox

from app.core.errors import HearthError
from app.core.system import crash_reports
from app.ui import inert


class SlotErrors(QObject):
    # what happened, where the report is ("" for none), the traceback: queued to the UI thread, so the
    # dialog opens after the failing slot returned (never inside the hook, from whichever thread)
    raised = Signal(str, str, str)

    def __init__(self, data: Path, secrets: Callable[[], Iterable[str]], parent: QObject | None = None):
        super().__init__(parent)
        self._data = data
        self._secrets = secrets
        self._seen: set[tuple[str, str]] = set()
        self.dialog: QMessageBox | None = None
        self.raised.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def hook(self, kind: type[BaseException], error: BaseException, trace: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, error, trace)
            return
        where = traceback.extract_tb(trace)[-1] if trace else None
        key = (f"{kind.__name__}: {error}", f"{where.filename}:{where.lineno}" if where else "")
        if key in self._seen:
            return
        self._seen.add(key)
        secrets = list(self._secrets())
        if isinstance(error, HearthError):
            self.raised.emit(crash_reports.scrub(str(error), secrets), "", "")
            return
        error = error.with_traceback(trace)
        try:
            kept = str(crash_reports.write_report(self._data, error, secrets, "the window (an action or event)"))
        except OSError:
            kept = ""
        details = crash_reports.scrub("".join(traceback.format_exception(kind, error, trace)), secrets)
        self.raised.emit(crash_reports.scrub(f"{kind.__name__}: {error}", secrets), kept, details)

    def _show(self, message: str, report: str, details: str) -> None:
        if self.dialog is not None and self.dialog.isVisible():
            return  # one at a time; the report of this one is written
        informative = ""
        if report:
            crash_reports.mark_seen(Path(report))  # seen now: the next start does not offer it as a crash
            seen = Path(report).parent / crash_reports.SEEN / Path(report).name
            informative = f"A report was saved on this computer ({seen}); nothing was sent anywhere."
        box = inert.message_box(
            QApplication.activeWindow(),
            QMessageBox.Icon.Warning,
            "Something went wrong",
            f"Hearth could not finish what it was doing: {message}\n\nHearth is still running; what you "
            "were doing may not have finished, and nothing saved before was lost.",
            informative,
        )
        if report:
            box.setDetailedText(details)
        self.dialog = box
        box.open()


def install(app: QApplication, data: Path, secrets: Callable[[], Iterable[str]]) -> SlotErrors:
    """From now on, an exception Qt hands to Python shows this dialog (and writes a report)."""
    handler = SlotErrors(data, secrets, app)
    sys.excepthook = handler.hook
    return handler
