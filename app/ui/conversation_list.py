"""The sidebar: search, conversations (pinned first) with their privacy at a glance, and their actions.

Typing in the search box runs a full-text search over every message (from
the store) and lists the hits with their snippets; clearing it lists the
conversations again. A deleted conversation disappears at once, and the
deletion is only carried out when the undo bar goes away.
"""

from __future__ import annotations

import functools
from enum import Enum

from PySide6.QtCore import QEvent, QObject, QPoint, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QKeyEvent, QKeySequence, QPainter, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.config.schema import Privacy
from app.core.privacy.policy import PRIVACY_LABELS
from app.core.storage.rows import ConversationRow, SearchHit
from app.ui import inert

UNDO_MS = 8_000
SEARCH_DELAY_MS = 150
ID_ROLE = Qt.ItemDataRole.UserRole
MESSAGE_ROLE = Qt.ItemDataRole.UserRole + 1

# A letter and a colour per policy: the sidebar shows where each conversation may go.
PRIVACY_MARKS: dict[Privacy, tuple[str, str]] = {
    Privacy.LOCAL_ONLY: ("L", "#4f8a4e"),
    Privacy.SELF_HOSTED: ("S", "#3f6fa8"),
    Privacy.CLOUD_WITH_CONSENT: ("C", "#b7862a"),
    Privacy.CLOUD_AUTO: ("A", "#b5482f"),
}


@functools.cache
def privacy_icon(privacy: Privacy) -> QIcon:
    """Painted once per policy: the sidebar shows one on each of possibly thousands of rows."""
    letter, colour = PRIVACY_MARKS[privacy]
    pixmap = QPixmap(32, 32)
    pixmap.setDevicePixelRatio(2)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(colour))
    painter.drawEllipse(1, 1, 14, 14)
    painter.setPen(QColor("white"))
    font = QFont(painter.font())
    font.setPixelSize(10)
    font.setBold(True)
    painter.setFont(font)
    painter.drawText(pixmap.rect().adjusted(0, 0, -16, -16), Qt.AlignmentFlag.AlignCenter, letter)
    painter.end()
    return QIcon(pixmap)


class ExportFormat(Enum):
    """How the sidebar exports a conversation: the file's suffix."""

    MARKDOWN = ".md"  # to read
    JSON = ".json"  # to import back


class ConversationList(QWidget):
    selected = Signal(int)
    hit_selected = Signal(int, int)  # conversation, message
    new_requested = Signal()
    search_changed = Signal(str)
    rename_requested = Signal(int, str)
    pin_requested = Signal(int, bool)
    privacy_requested = Signal(int, object)  # Privacy, or None for the app's setting
    export_requested = Signal(int, object)  # ExportFormat
    delete_requested = Signal(int)  # carried out when the undo time is over
    visible_changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("sidebar")
        self.app_privacy = Privacy.LOCAL_ONLY
        self._rows: dict[int, ConversationRow] = {}
        self._pending_delete: int | None = None
        self.rename_dialog: QInputDialog | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        self.new_button = QPushButton("+ New conversation", self)
        self.new_button.setObjectName("newConversation")
        self.new_button.setAccessibleName("New conversation")
        self.new_button.setToolTip("New conversation (Ctrl+N)")
        self.search = QLineEdit(self)
        self.search.setObjectName("sidebarSearch")
        self.search.setPlaceholderText("Search all messages (Ctrl+K)")
        self.search.setAccessibleName("Search conversations")
        self.search.setClearButtonEnabled(True)
        self.list = QListWidget(self)
        self.list.setObjectName("conversationList")
        self.list.setAccessibleName("Conversations")
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setIconSize(QSize(16, 16))
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.setUniformItemSizes(True)  # thousands of conversations lay out at once
        self.undo_bar = QWidget(self)
        self.undo_bar.setObjectName("undoBar")
        undo_row = QHBoxLayout(self.undo_bar)
        undo_row.setContentsMargins(6, 2, 6, 2)
        self.undo_label = inert.plain_label("", self.undo_bar)
        self.undo_button = QPushButton("Undo", self.undo_bar)
        self.undo_button.setAccessibleName("Undo delete")
        undo_row.addWidget(self.undo_label, 1)
        undo_row.addWidget(self.undo_button)
        self.undo_bar.hide()
        layout.addWidget(self.new_button)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.undo_bar)

        self._undo_timer = QTimer(self)
        self._undo_timer.setSingleShot(True)
        self._undo_timer.setInterval(UNDO_MS)
        self._undo_timer.timeout.connect(self.commit_delete)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(lambda: self.search_changed.emit(self.search.text().strip()))

        self.new_button.clicked.connect(self.new_requested)
        self.search.textChanged.connect(lambda _: self._search_timer.start())
        self.list.itemActivated.connect(self._activated)
        self.list.itemClicked.connect(self._activated)
        self.list.customContextMenuRequested.connect(self._menu_at)
        self.undo_button.clicked.connect(self.undo_delete)
        self._keys = {
            QKeySequence("F2"): self.rename_current,
            QKeySequence(QKeySequence.StandardKey.Delete): self.delete_current,
            QKeySequence("Ctrl+Shift+P"): self.toggle_pin_current,
        }
        self.list.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt naming)
        """The list's own keys: F2 renames, Delete deletes, Ctrl+Shift+P pins."""
        if watched is self.list and isinstance(event, QKeyEvent) and event.type() == QEvent.Type.KeyPress:
            pressed = QKeySequence(event.keyCombination())
            for sequence, slot in self._keys.items():
                if pressed.matches(sequence) == QKeySequence.SequenceMatch.ExactMatch:
                    slot()
                    return True
        return super().eventFilter(watched, event)

    # Filling the list
    def show_conversations(self, rows: list[ConversationRow], current: int | None) -> None:
        self._rows = {row.id: row for row in rows}
        self._fill(
            [
                (row.id, None, self._title(row), self._tooltip(row), self._icon(row))
                for row in rows
                if row.id != self._pending_delete
            ],
            current,
        )

    def show_hits(self, hits: list[SearchHit]) -> None:
        if not hits:
            self._fill([], None)
            placeholder = QListWidgetItem("No message matches.")
            placeholder.setFlags(Qt.ItemFlag.NoItemFlags)
            self.list.addItem(placeholder)
            return
        self._fill(
            [
                (
                    hit.conversation_id,
                    hit.message_id,
                    f"{'API · ' if hit.conversation_api_client else ''}{hit.conversation_title}\n"
                    f"{hit.snippet.replace(chr(10), ' ')}",
                    f"{'You' if hit.role == 'user' else 'Hearth'}, {hit.created_at[:16].replace('T', ' ')} UTC",
                    None,
                )
                for hit in hits
                if hit.conversation_id != self._pending_delete
            ],
            None,
        )

    def _fill(self, entries: list[tuple[int, int | None, str, str, QIcon | None]], current: int | None) -> None:
        self.list.blockSignals(True)
        self.list.setUniformItemSizes(all(message is None for _, message, *_ in entries))
        self.list.clear()
        for conversation_id, message_id, text, tip, icon in entries:
            item = QListWidgetItem(text)
            item.setData(ID_ROLE, conversation_id)
            item.setData(MESSAGE_ROLE, message_id)
            item.setToolTip(inert.tooltip(tip))
            if icon is not None:
                item.setIcon(icon)
            self.list.addItem(item)
            if conversation_id == current and message_id is None:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        self.visible_changed.emit()

    def _title(self, row: ConversationRow) -> str:
        asked = "API · " if row.api_client else ""
        return ("★ " if row.pinned else "") + ("⚠ " if row.problem else "") + asked + row.title

    def _policy(self, row: ConversationRow) -> Privacy:
        return Privacy(row.privacy) if row.privacy else self.app_privacy

    def _icon(self, row: ConversationRow) -> QIcon:
        return privacy_icon(self._policy(row))

    def _tooltip(self, row: ConversationRow) -> str:
        source = "this conversation's own setting" if row.privacy else "the app's setting"
        when = row.updated_at[:16].replace("T", " ")
        problem = f"\nStored with values Hearth cannot use: {row.problem}" if row.problem else ""
        asked = f"\nAsked through the local API by {row.api_client}" if row.api_client else ""
        privacy = f"Privacy: {PRIVACY_LABELS[self._policy(row)]} ({source})"
        return f"{row.title}{asked}\n{privacy}\nLast message {when} UTC{problem}"

    def current_id(self) -> int | None:
        item = self.list.currentItem()
        return None if item is None or item.data(ID_ROLE) is None else int(item.data(ID_ROLE))

    def _activated(self, item: QListWidgetItem) -> None:
        if item.data(ID_ROLE) is None:
            return
        message = item.data(MESSAGE_ROLE)
        if message is None:
            self.selected.emit(int(item.data(ID_ROLE)))
        else:
            self.hit_selected.emit(int(item.data(ID_ROLE)), int(message))

    # Actions
    def _menu_at(self, point: QPoint) -> None:
        item = self.list.itemAt(point)
        if item is None or item.data(ID_ROLE) is None:
            return
        self.list.setCurrentItem(item)
        self.menu_for(int(item.data(ID_ROLE))).exec(self.list.viewport().mapToGlobal(point))

    def menu_for(self, conversation_id: int) -> QMenu:
        row = self._rows.get(conversation_id)
        menu = QMenu(self)
        menu.addAction("Rename", self.rename_current).setShortcut("F2")
        pinned = bool(row and row.pinned)
        menu.addAction("Unpin" if pinned else "Pin to the top", self.toggle_pin_current).setShortcut("Ctrl+Shift+P")
        privacy = menu.addMenu("Privacy")
        for policy in Privacy:
            action = privacy.addAction(
                PRIVACY_LABELS[policy], lambda p=policy: self.privacy_requested.emit(conversation_id, p)
            )
            action.setIcon(privacy_icon(policy))
            action.setCheckable(True)
            action.setChecked(bool(row and row.privacy == policy.value))
        inherit = privacy.addAction(
            f"Use the app's setting ({PRIVACY_LABELS[self.app_privacy]})",
            lambda: self.privacy_requested.emit(conversation_id, None),
        )
        inherit.setCheckable(True)
        inherit.setChecked(bool(row and row.privacy is None))
        export = menu.addMenu("Export")
        for label, kind in (
            ("As Markdown…", ExportFormat.MARKDOWN),
            ("As JSON (can be imported back)…", ExportFormat.JSON),
        ):
            export.addAction(label, functools.partial(self.export_requested.emit, conversation_id, kind))
        menu.addSeparator()
        menu.addAction("Delete", self.delete_current).setShortcut(QKeySequence.StandardKey.Delete)
        return menu

    def rename_current(self) -> None:
        """Ask for the new title in a small dialog over the window (it does not block the window's work)."""
        conversation_id = self.current_id()
        if conversation_id is None or conversation_id not in self._rows:
            return
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Rename conversation")
        dialog.setLabelText("Title:")
        dialog.setTextValue(self._rows[conversation_id].title)
        inert.plain_labels(dialog)
        dialog.textValueSelected.connect(lambda title: self._renamed(conversation_id, title))
        self.rename_dialog = dialog
        dialog.open()

    def _renamed(self, conversation_id: int, title: str) -> None:
        if title.strip() and title.strip() != self._rows[conversation_id].title:
            self.rename_requested.emit(conversation_id, title.strip())

    def toggle_pin_current(self) -> None:
        conversation_id = self.current_id()
        if conversation_id is not None and conversation_id in self._rows:
            self.pin_requested.emit(conversation_id, not self._rows[conversation_id].pinned)

    def delete_current(self) -> None:
        conversation_id = self.current_id()
        if conversation_id is None or conversation_id not in self._rows:
            return
        self.commit_delete()  # one undo at a time: an earlier deletion is carried out now
        self._pending_delete = conversation_id
        row = self.list.currentRow()
        self.list.takeItem(row)
        self.undo_label.setText(f"Deleted “{self._rows[conversation_id].title[:40]}”")
        self.undo_bar.show()
        self.undo_button.setFocus()
        self._undo_timer.start()
        self.visible_changed.emit()

    def pending_delete(self) -> int | None:
        return self._pending_delete

    def undo_delete(self) -> None:
        self._undo_timer.stop()
        self._pending_delete = None
        self.undo_bar.hide()
        self.show_conversations(list(self._rows.values()), None)

    def commit_delete(self) -> None:
        self._undo_timer.stop()
        self.undo_bar.hide()
        if self._pending_delete is not None:
            conversation_id, self._pending_delete = self._pending_delete, None
            self.delete_requested.emit(conversation_id)
