"""The conversation: a list view over ConversationModel, painted by MessageDelegate.

Streamed text is buffered and shown at most every FLUSH_MS, so a fast model
does not re-lay the answer per token. Auto-scroll follows the answer only
while the view is at the bottom: a user who scrolls up to read stays there.
Scrolling to the top reads the previous page of the conversation.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QContextMenuEvent, QKeyEvent, QKeySequence, QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QApplication, QLabel, QListView, QMenu, QWidget

from app.core.store import Store
from app.ui.conversation_model import ConversationModel, MessageItem
from app.ui.message_delegate import MessageDelegate
from app.ui.theme import Theme

FLUSH_MS = 50

EMPTY_STATE = (
    "Ask anything.\n\nAnswers are written by a model on this computer first. Each one shows how sure "
    "it was, and a message only goes further when it is unsure and your privacy setting allows it."
)

# (action, menu text, shortcut, for user messages, for answers)
ACTIONS = [
    ("copy", "Copy message", "Ctrl+C", True, True),
    ("edit", "Edit and resend", "Ctrl+E", True, False),
    ("up", "Good answer", "Ctrl+Alt+Up", False, True),
    ("down", "Wrong or unhelpful answer", "Ctrl+Alt+Down", False, True),
    ("regenerate", "Regenerate", "Ctrl+Shift+R", False, True),
    ("stronger", "Ask a stronger model", "Ctrl+Shift+Up", False, True),
    ("version:previous", "Previous version", "Ctrl+Alt+Left", True, True),
    ("version:next", "Next version", "Ctrl+Alt+Right", True, True),
]


class ChatView(QListView):
    """Emits ``action_requested(row, action)`` for every message action, by mouse, menu or keyboard."""

    action_requested = Signal(int, str)

    def __init__(self, theme: Theme, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("chatView")
        self.setAccessibleName("Conversation")
        self.setAccessibleDescription("Messages; press the Menu key for a message's actions.")
        self.conversation = ConversationModel()
        self.setModel(self.conversation)
        self.delegate = MessageDelegate(self, theme)
        self.setItemDelegate(self.delegate)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalScrollBar().setSingleStep(24)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setMouseTracking(True)
        self.setFrameShape(QListView.Shape.NoFrame)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.DefaultContextMenu)

        self.empty_state = QLabel(EMPTY_STATE, self.viewport())
        self.empty_state.setObjectName("emptyState")
        self.empty_state.setTextFormat(Qt.TextFormat.PlainText)
        self.empty_state.setWordWrap(True)
        self.empty_state.setAlignment(Qt.AlignmentFlag.AlignCenter)

        self._store: Store | None = None
        self._follow = True
        self._keep_from_bottom: int | None = None
        self._pending: dict[int, str] = {}
        self._flush = QTimer(self)
        self._flush.setSingleShot(True)
        self._flush.setInterval(FLUSH_MS)
        self._flush.timeout.connect(self.flush)

        self.delegate.link_activated.connect(self._on_link)
        self.conversation.dataChanged.connect(self._on_data_changed)
        self.conversation.modelReset.connect(self._update_empty_state)
        self.conversation.rowsInserted.connect(self._update_empty_state)
        self.conversation.rowsRemoved.connect(self._update_empty_state)
        bar = self.verticalScrollBar()
        bar.valueChanged.connect(self._on_scrolled)
        bar.rangeChanged.connect(self._on_range_changed)

    # What is on show
    def show_conversation(self, store: Store, conversation_id: int) -> None:
        self._store = store
        self._pending.clear()
        self._follow = True
        self.empty_state.setText(EMPTY_STATE)
        self.conversation.load(store, conversation_id)
        self.scrollToBottom()

    def show_problem(self, text: str) -> None:
        """A conversation that cannot be shown: none of it on show, and why in its place."""
        self.clear()
        self.empty_state.setText(text)

    def clear(self) -> None:
        self._pending.clear()
        self._follow = True
        self.empty_state.setText(EMPTY_STATE)
        self.conversation.clear()

    def add(self, item: MessageItem) -> int:
        self._follow = True
        row = self.conversation.append(item)
        self.scrollToBottom()
        return row

    def append_text(self, row: int, text: str) -> None:
        """Streamed text: shown on the next flush, not per token."""
        self._pending[row] = self._pending.get(row, "") + text
        if not self._flush.isActive():
            self._flush.start()

    def flush(self) -> None:
        for row, text in self._pending.items():
            self.conversation.update(row, text=self.conversation.item(row).text + text)
        self._pending.clear()

    def set_theme(self, theme: Theme) -> None:
        self.delegate.set_theme(theme)
        self.scheduleDelayedItemsLayout()
        self.viewport().update()

    def code_blocks(self, row: int) -> list[str]:
        item = self.conversation.item(row)
        return self.delegate.layout(item, self.viewport().width(), self.font()).code_blocks

    # Actions
    def _on_link(self, index: QPersistentModelIndex, href: str) -> None:
        if href.startswith("action:"):
            self.action_requested.emit(index.row(), href.removeprefix("action:"))
        elif href.startswith(("copy:", "version:")):
            self.action_requested.emit(index.row(), href)
        elif href.startswith(("http://", "https://")):
            self.action_requested.emit(index.row(), "open:" + href)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt naming)
        """A message's actions by keyboard, on the selected message (or the last one)."""
        pressed = QKeySequence(event.keyCombination())
        row = self.currentIndex().row() if self.currentIndex().isValid() else self.conversation.rowCount() - 1
        for action, _, shortcut, user, answer in ACTIONS:
            if row >= 0 and pressed.matches(QKeySequence(shortcut)) == QKeySequence.SequenceMatch.ExactMatch:
                item = self.conversation.item(row)
                if user if item.role == "user" else answer:
                    self.action_requested.emit(row, action)
                event.accept()
                return
        super().keyPressEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802 (Qt naming)
        index = self.currentIndex() if event.reason() == QContextMenuEvent.Reason.Keyboard else None
        index = index if index is not None and index.isValid() else self.indexAt(event.pos())
        if not index.isValid():
            return
        menu = self.actions_menu(index.row())
        menu.exec(event.globalPos())

    def actions_menu(self, row: int) -> QMenu:
        item = self.conversation.item(row)
        menu = QMenu(self)
        for action, text, shortcut, user, answer in ACTIONS:
            if not (user if item.role == "user" else answer):
                continue
            if action.startswith("version:") and item.versions < 2:
                continue
            entry = menu.addAction(text, lambda name=action: self.action_requested.emit(row, name))
            entry.setShortcut(QKeySequence(shortcut))
        for number, code in enumerate(self.code_blocks(row)):
            first = code.splitlines()[0][:30] if code else ""
            menu.addAction(
                f"Copy code block {number + 1}: {first}", lambda n=number: self.action_requested.emit(row, f"copy:{n}")
            )
        return menu

    # Layout and scrolling
    def _on_data_changed(self, top: QModelIndex, _bottom: QModelIndex) -> None:
        self.delegate.sizeHintChanged.emit(top)

    def _update_empty_state(self) -> None:
        self.empty_state.setVisible(self.conversation.rowCount() == 0)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt naming)
        super().resizeEvent(event)
        self.empty_state.setGeometry(self.viewport().rect())

    def _on_scrolled(self, value: int) -> None:
        bar = self.verticalScrollBar()
        self._follow = value >= bar.maximum() - 4
        if value == bar.minimum() and self._store is not None and self.conversation.can_load_earlier():
            self._keep_from_bottom = bar.maximum() - value
            if not self.conversation.load_earlier(self._store):
                self._keep_from_bottom = None

    def _on_range_changed(self, _minimum: int, maximum: int) -> None:
        if self._keep_from_bottom is not None:
            self.verticalScrollBar().setValue(maximum - self._keep_from_bottom)
            self._keep_from_bottom = None
        elif self._follow:
            self.verticalScrollBar().setValue(maximum)


def copy_text(text: str) -> None:
    QApplication.clipboard().setText(text)
