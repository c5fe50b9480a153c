"""The whole of a long message, as plain text: in a viewer, or in a file.

The viewer fills its document a part at a time, one part per turn of the event
loop, so opening five megabytes never stalls the window. Qt lays a line out in
a time that grows faster than its length (a 1 MB line took 30 s), so lines
longer than LINE_MAX characters are shown broken; Copy all and Save keep the
text exactly as it is.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import FileError
from app.core.user_files import write_regular
from app.ui import inert

LINE_MAX = 1_000
PART = 100_000  # characters added per turn of the event loop (tens of milliseconds)
_LONG_LINE = re.compile(rf"[^\n]{{{LINE_MAX}}}(?=[^\n])")


def save_text(parent: QWidget, title: str, suggested: str, text: str) -> Path | None:
    """Ask where, write ``text`` there as UTF-8; a failure is said in words. Returns where it went."""
    name, _ = QFileDialog.getSaveFileName(parent, title, suggested)
    if not name:
        return None
    try:
        write_regular(Path(name), text.encode("utf-8", "replace"))
    except FileError as exc:  # a folder, a pipe or a full disk: said in words, the old file as it was
        inert.warn(parent, "Not saved", str(exc))
        return None
    return Path(name)


class TextViewer(QDialog):
    def __init__(self, text: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.text = text
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # it holds the whole text: gone when closed
        self.setWindowTitle("The whole message")
        self.setAccessibleName("The whole message")
        self.resize(900, 640)
        shown, broken = _LONG_LINE.subn(lambda line: line[0] + "\n", text)
        said = f"{len(text):,} characters."
        if broken:
            said += f" Lines longer than {LINE_MAX:,} characters are shown broken; Copy all and Save keep them whole."
        self.about = inert.plain_label(said, self)
        self.about.setWordWrap(True)
        self.view = QPlainTextEdit(self)
        self.view.setReadOnly(True)
        self.view.setAccessibleName("Message text")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        copy = buttons.addButton("Copy all", QDialogButtonBox.ButtonRole.ActionRole)
        save = buttons.addButton("Save as…", QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(lambda: QApplication.clipboard().setText(self.text))
        save.clicked.connect(lambda: save_text(self, "Save the message", "message.md", self.text))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.about)
        layout.addWidget(self.view, 1)
        layout.addWidget(buttons)
        self._shown, self._added = shown, 0
        self._end = QTextCursor(self.view.document())
        self._filling = QTimer(self)
        self._filling.setInterval(0)
        self._filling.timeout.connect(self._fill)
        self._filling.start()

    def filled(self) -> bool:
        return self._added >= len(self._shown)

    def _fill(self) -> None:
        self._end.movePosition(QTextCursor.MoveOperation.End)
        self._end.insertText(self._shown[self._added : self._added + PART])
        self._added += PART
        if self.filled():
            self._filling.stop()
            self.view.moveCursor(QTextCursor.MoveOperation.Start)
