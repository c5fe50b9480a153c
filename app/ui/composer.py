"""Where the user writes: Enter sends, Shift+Enter starts a new line.

Files can be attached with the button or dropped on the window; a "quick
answer" switch skips slow tiers; the privacy selector sets this
conversation's own policy. Editing an earlier message happens here too: the
text comes back into the box and is sent as a new version of that message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.config.schema import Privacy
from app.core.privacy.policy import PRIVACY_LABELS
from app.ui import inert
from app.ui.conversation_list import privacy_icon

EDIT_MIN_HEIGHT = 64
EDIT_MAX_HEIGHT = 200
FILE_FILTER = (
    "Images and text files (*.png *.jpg *.jpeg *.gif *.webp *.txt *.md *.csv *.json *.py *.log);;All files (*)"
)


@dataclass(frozen=True)
class Draft:
    text: str
    attachments: list[Path] = field(default_factory=list)
    quick: bool = False
    replaces: int | None = None  # the message this one is an edited version of


def dropped_files(mime: QMimeData) -> list[Path]:
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile() and Path(url.toLocalFile()).is_file()]


class MessageEdit(QPlainTextEdit):
    submitted = Signal()
    cancelled = Signal()
    files_dropped = Signal(list)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt naming)
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.submitted.emit()
            return
        if event.key() == Qt.Key.Key_Escape:
            self.cancelled.emit()
        super().keyPressEvent(event)

    def canInsertFromMimeData(self, source: QMimeData) -> bool:  # noqa: N802 (Qt naming)
        return bool(dropped_files(source)) or super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: QMimeData) -> None:  # noqa: N802 (Qt naming)
        files = dropped_files(source)
        if files:
            self.files_dropped.emit(files)
        else:
            super().insertFromMimeData(source)


class Composer(QWidget):
    send_requested = Signal(object)  # Draft
    stop_requested = Signal()
    privacy_chosen = Signal(object)  # Privacy, or None for the app's setting

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("composer")
        self.attachments: list[Path] = []
        self.replaces: int | None = None
        column = QVBoxLayout(self)
        column.setContentsMargins(12, 6, 12, 10)
        column.setSpacing(4)

        self.edit_banner = inert.plain_label("", self)
        self.edit_banner.setObjectName("editBanner")
        self.edit_banner.hide()
        column.addWidget(self.edit_banner)

        options = QWidget(self)
        options.setObjectName("composerOptions")
        row = QHBoxLayout(options)
        row.setContentsMargins(0, 0, 0, 0)
        self.attach_button = QToolButton(options)
        self.attach_button.setText("+ Attach")
        self.attach_button.setToolTip("Attach images or text files (Ctrl+O); you can also drop them here")
        self.attach_button.setAccessibleName("Attach files")
        self.attach_button.setShortcut("Ctrl+O")
        self.attached_label = inert.plain_label("", options)
        self.attached_label.setObjectName("attachments")
        self.clear_attachments = QToolButton(options)
        self.clear_attachments.setText("✗")
        self.clear_attachments.setToolTip("Remove the attachments")
        self.clear_attachments.setAccessibleName("Remove the attachments")
        self.clear_attachments.hide()
        self.quick = QCheckBox("Quick answer", options)
        self.quick.setToolTip("Skip slow tiers for this message (Ctrl+Shift+Q)")
        self.quick.setAccessibleName("Quick answer")
        self.quick.setShortcut("Ctrl+Shift+Q")
        self.privacy = QComboBox(options)
        self.privacy.setAccessibleName("Privacy of this conversation")
        self.privacy.setToolTip("Where messages of this conversation may go when the local answer is unsure")
        row.addWidget(self.attach_button)
        row.addWidget(self.attached_label)
        row.addWidget(self.clear_attachments)
        row.addStretch(1)
        row.addWidget(self.quick)
        row.addWidget(inert.plain_label("Privacy:", options))
        row.addWidget(self.privacy)
        column.addWidget(options)

        line = QHBoxLayout()
        self.edit = MessageEdit(self)
        self.edit.setObjectName("messageEdit")
        self.edit.setPlaceholderText("Message Hearth (Enter to send, Shift+Enter for a new line)")
        self.edit.setAccessibleName("Message")
        self.edit.setFixedHeight(EDIT_MIN_HEIGHT)
        self.send_button = QPushButton("Send", self)
        self.send_button.setObjectName("sendButton")
        self.send_button.setAccessibleName("Send message")
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setObjectName("stopButton")
        self.stop_button.setAccessibleName("Stop the answer")
        self.stop_button.setToolTip("Stop the answer (Esc); the text so far is kept")
        self.stop_button.setShortcut("Esc")
        self.stop_button.hide()
        line.addWidget(self.edit, 1)
        line.addWidget(self.send_button)
        line.addWidget(self.stop_button)
        column.addLayout(line)

        self.edit.textChanged.connect(self._fit_height)
        self.edit.submitted.connect(self._submit)
        self.edit.cancelled.connect(self.cancel_edit)
        self.edit.files_dropped.connect(self.add_files)
        self.send_button.clicked.connect(self._submit)
        self.stop_button.clicked.connect(self.stop_requested)
        self.attach_button.clicked.connect(self._choose_files)
        self.clear_attachments.clicked.connect(lambda: self._set_attachments([]))
        self.privacy.activated.connect(lambda _: self.privacy_chosen.emit(self.chosen_privacy()))

    def _fit_height(self) -> None:
        """Grow with the text, up to a limit, then scroll."""
        lines = self.edit.document().size().height()  # in lines for a plain-text document
        line = self.edit.fontMetrics().lineSpacing()
        wanted = int(lines * line) + 2 * int(self.edit.document().documentMargin()) + 14
        self.edit.setFixedHeight(max(EDIT_MIN_HEIGHT, min(EDIT_MAX_HEIGHT, wanted)))

    # Privacy selector
    def show_privacy(self, app_policy: Privacy, own: Privacy | None) -> None:
        self.privacy.blockSignals(True)
        self.privacy.clear()
        self.privacy.addItem(privacy_icon(app_policy), f"App setting ({PRIVACY_LABELS[app_policy]})", None)
        for policy in Privacy:
            self.privacy.addItem(privacy_icon(policy), PRIVACY_LABELS[policy], policy)
        self.privacy.setCurrentIndex(0 if own is None else list(Privacy).index(own) + 1)
        self.privacy.blockSignals(False)

    def chosen_privacy(self) -> Privacy | None:
        data = self.privacy.currentData()  # Qt hands a StrEnum back as a plain str
        return Privacy(data) if data else None

    # Attachments
    def _choose_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Attach files", "", FILE_FILTER)
        self.add_files([Path(f) for f in files])

    def add_files(self, files: list[Path]) -> None:
        self._set_attachments(self.attachments + [f for f in files if f not in self.attachments])
        self.edit.setFocus()

    def _set_attachments(self, files: list[Path]) -> None:
        self.attachments = files
        names = ", ".join(f.name for f in files)
        self.attached_label.setText(f"Attached: {names}" if files else "")
        self.attached_label.setToolTip(inert.tooltip("\n".join(str(f) for f in files)))
        self.clear_attachments.setVisible(bool(files))

    # Editing an earlier message
    def start_edit(self, message_id: int, text: str) -> None:
        self.replaces = message_id
        self.edit.setPlainText(text)
        self.edit_banner.setText(
            "Editing your message: Enter sends it as a new version (the old one is kept) · Esc cancels"
        )
        self.edit_banner.show()
        self.edit.setFocus()

    def cancel_edit(self) -> None:
        if self.replaces is not None:
            self.replaces = None
            self.edit.clear()
            self.edit_banner.hide()

    # Sending
    def restore(self, draft: Draft, problem: str) -> None:
        """A message that was refused before it was stored comes back, with why."""
        self.edit.setPlainText(draft.text)
        self._set_attachments(draft.attachments)
        self.quick.setChecked(draft.quick)
        self.replaces = draft.replaces
        self.edit_banner.setText(problem)
        self.edit_banner.show()

    def _submit(self) -> None:
        text = self.edit.toPlainText().strip()
        if (text or self.attachments) and self.send_button.isVisible():
            draft = Draft(text, list(self.attachments), self.quick.isChecked(), self.replaces)
            self.edit.clear()
            self._set_attachments([])
            self.replaces = None
            self.edit_banner.hide()
            self.send_requested.emit(draft)

    def set_busy(self, busy: bool) -> None:
        self.send_button.setVisible(not busy)
        self.stop_button.setVisible(busy)
        if not busy:
            self.edit.setFocus()
