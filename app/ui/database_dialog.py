"""At start, before anything opens the database: a damaged log named, a damaged database offered its ways back.

The words and the ways are the core's (app/core/storage/wal.py, app/core/storage/recovery.py); this module only shows
them, in plain text (paths and SQLite's messages are never taken as markup), and takes the one chosen.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from app.core.errors import HearthError
from app.core.storage import recovery, wal
from app.core.storage.recovery import DatabaseProblem
from app.ui import inert


class DamagedDatabaseDialog(QMessageBox):
    """What is wrong, then one button per way back (restore the newest good backup, keep what can be
    read, start anew) and Quit; ``choice`` is the way's kind, or None to quit and change nothing."""

    def __init__(self, problem: DatabaseProblem, parent: QWidget | None = None):
        super().__init__(parent)
        self.choice: str | None = None
        self.setIcon(QMessageBox.Icon.Warning)
        self.setWindowTitle("Hearth cannot open your conversations")
        self.setTextFormat(Qt.TextFormat.PlainText)
        ways = recovery.ways(problem)
        self.setText(problem.describe())
        lines = [f"• {way.label}: {way.detail}" for way in ways]
        self.setInformativeText(
            "\n\n".join(lines) + "\n\nEach way first moves the damaged file into a folder beside it "
            f"({problem.database.parent / 'set-aside'}); nothing is deleted."
        )
        self._ways = {self.addButton(way.label, QMessageBox.ButtonRole.AcceptRole): way.kind for way in ways}
        quit_button = self.addButton("Quit", QMessageBox.ButtonRole.RejectRole)
        self.setDefaultButton(next(iter(self._ways)))
        self.setEscapeButton(quit_button)
        self.buttonClicked.connect(lambda button: setattr(self, "choice", self._ways.get(button)))


def check_database(database: Path, parent: QWidget | None = None) -> bool:
    """Run before the window opens the database; False when the user would rather quit."""
    finding = wal.check(database)
    if finding is not None:
        inert.message_box(
            parent, QMessageBox.Icon.Information, "Hearth checked your latest changes", finding.describe()
        ).exec()
    with tempfile.TemporaryDirectory(prefix="hearth-check-") as scratch:
        problem = recovery.diagnose(database, Path(scratch))
        if problem is None:
            return True
        dialog = DamagedDatabaseDialog(problem, parent)
        dialog.exec()
        if dialog.choice is None:
            return False
        try:
            done = recovery.take(problem, dialog.choice)
        except (HearthError, OSError) as exc:
            inert.message_box(parent, QMessageBox.Icon.Critical, "Hearth could not do that", str(exc)).exec()
            return False
    inert.message_box(parent, QMessageBox.Icon.Information, "Your conversations", done).exec()
    return True
