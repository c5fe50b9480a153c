"""The conversation: a column of message bubbles that grows as tokens arrive.

Auto-scroll follows the answer only while the view is at the bottom, so a
user who scrolls up to read is not pulled back down.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from app.ui.badge import AnswerBadge, BadgeInfo

EMPTY_STATE = (
    "Ask anything.\n\nAnswers are written by a model on this computer first. Each one shows how sure "
    "it was, and a message only goes further when it is unsure and your privacy setting allows it."
)


class MessageBubble(QFrame):
    def __init__(self, role: str, text: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.role = role
        self.message_id: int | None = None  # known once the message is stored
        self.setObjectName("userBubble" if role == "user" else "assistantBubble")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        self.text = QLabel(text, self)
        self.text.setObjectName("messageText")
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note = QLabel(self)
        self.note.setObjectName("messageNote")
        self.note.setWordWrap(True)
        self.note.hide()
        self.badge = AnswerBadge(self)
        layout.addWidget(self.text)
        layout.addWidget(self.note)
        layout.addWidget(self.badge)
        self._parts: list[str] = []
        self._widest = 0
        self._limit = 10_000
        self._fit(text)

    def append(self, text: str) -> None:
        self._parts.append(text)
        full = "".join(self._parts)
        self.text.setText(full)
        self._fit(full[full.rfind("\n", 0, max(0, len(full) - len(text))) + 1 :])

    def replace(self, text: str) -> None:
        self._parts = [text]
        self._widest = 0
        self.text.setText(text)
        self._fit(text)

    def set_width_limit(self, limit: int) -> None:
        self._limit = limit
        self._apply_width()

    def _fit(self, recent: str) -> None:
        """Grow to the widest line seen so far, up to the limit: short messages get small bubbles."""
        self.text.ensurePolished()  # the style sheet's font, not the default one
        metrics = self.text.fontMetrics()
        for line in recent.split("\n"):
            self._widest = max(self._widest, metrics.horizontalAdvance(line))
        self._apply_width()

    def _apply_width(self) -> None:
        margins = self.contentsMargins().left() + self.contentsMargins().right() + 48
        badge = self.badge.sizeHint().width() if self.badge.isVisible() else 0
        self.setMaximumWidth(min(self._limit, max(self._widest, badge, 40) + margins))

    def show_badge(self, info: BadgeInfo) -> None:
        self.badge.show_info(info)
        self._apply_width()

    def show_note(self, text: str) -> None:
        self.note.setText(text)
        self.note.setVisible(bool(text))

    @property
    def content(self) -> str:
        return self.text.text()


class ChatView(QScrollArea):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("chatView")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAccessibleName("Conversation")
        body = QWidget(self)
        body.setObjectName("chatBody")
        self._column = QVBoxLayout(body)
        self._column.setContentsMargins(16, 16, 16, 16)
        self._column.setSpacing(10)
        self.empty_state = QLabel(EMPTY_STATE, body)
        self.empty_state.setObjectName("emptyState")
        self.empty_state.setWordWrap(True)
        self.empty_state.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # Rows go above these three: the empty state sits centred until the first
        # message, then the stretches keep the messages at the top.
        self._column.addStretch(1)
        self._column.addWidget(self.empty_state)
        self._column.addStretch(1)
        self.setWidget(body)
        self._follow = True
        self._bubbles: list[MessageBubble] = []
        self._rows: list[QWidget] = []
        bar = self.verticalScrollBar()
        bar.valueChanged.connect(self._on_scrolled)
        bar.rangeChanged.connect(self._on_range_changed)

    def clear(self) -> None:
        for row in self._rows:
            self._column.removeWidget(row)
            row.deleteLater()
        self._rows.clear()
        self._bubbles.clear()
        self.empty_state.show()
        self._follow = True

    def add_message(self, role: str, text: str = "") -> MessageBubble:
        # A row with a stretch on one side: an aligned word-wrapped label would
        # be given its one-line width and cut off.
        row = QWidget(self.widget())
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        bubble = MessageBubble(role, text, row)
        bubble.set_width_limit(self._bubble_width())
        if role == "user":
            line.addStretch(1)
        line.addWidget(bubble, 100)
        if role != "user":
            line.addStretch(1)
        self._column.insertWidget(self._column.count() - 3, row)
        self._rows.append(row)
        self._bubbles.append(bubble)
        self.empty_state.hide()
        return bubble

    def add_answer(self, text: str, badge: BadgeInfo | None) -> MessageBubble:
        bubble = self.add_message("assistant", text)
        if badge is not None:
            bubble.show_badge(badge)
        return bubble

    def bubbles(self) -> list[MessageBubble]:
        return list(self._bubbles)

    def _bubble_width(self) -> int:
        return max(320, int(self.viewport().width() * 0.92))

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt naming)
        super().resizeEvent(event)
        width = self._bubble_width()
        for bubble in self._bubbles:
            bubble.set_width_limit(width)

    def _on_scrolled(self, value: int) -> None:
        self._follow = value >= self.verticalScrollBar().maximum() - 4

    def _on_range_changed(self, _minimum: int, maximum: int) -> None:
        if self._follow:
            self.verticalScrollBar().setValue(maximum)
