"""The conversation: a list view over ConversationModel, painted by MessageDelegate.

Streamed text is buffered and shown at most every FLUSH_MS, so a fast model
does not re-lay the answer per token. Auto-scroll follows the answer only
while the view is at the bottom: a user who scrolls up to read stays there.
Scrolling to the top reads the previous page of the conversation.

The view answers the requests that only show a message in another way (open
a link the answer wrote, after asking; the whole of a long message, in a
viewer or a file); every other request goes to the window as
``action_requested``.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QContextMenuEvent, QDesktopServices, QKeyEvent, QKeySequence, QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QApplication, QListView, QMenu, QWidget

from app.core.storage.store import Store
from app.core.web_links import web_link
from app.ui import inert
from app.ui.conversation_model import ConversationModel, MessageItem
from app.ui.markdown_html import warm_up_in_background
from app.ui.message_actions import MessageAction, Request
from app.ui.message_delegate import MessageDelegate
from app.ui.text_viewer import TextViewer, save_text
from app.ui.theme import Theme

FLUSH_MS = 50

EMPTY_STATE = (
    "Ask anything.\n\nAnswers are written by a model on this computer first. Each one shows how sure "
    "it was, and a message only goes further when it is unsure and your privacy setting allows it."
)

# (action, menu text, shortcut, for user messages, for answers)
ACTIONS = [
    (MessageAction.COPY, "Copy message", "Ctrl+C", True, True),
    (MessageAction.EDIT, "Edit and resend", "Ctrl+E", True, False),
    (MessageAction.RATE_UP, "Good answer", "Ctrl+Alt+Up", False, True),
    (MessageAction.RATE_DOWN, "Wrong or unhelpful answer", "Ctrl+Alt+Down", False, True),
    (MessageAction.REGENERATE, "Regenerate", "Ctrl+Shift+R", False, True),
    (MessageAction.STRONGER, "Ask a stronger model", "Ctrl+Shift+Up", False, True),
    (MessageAction.COMPARE, "Compare with another tier", "Ctrl+Alt+C", False, True),
    (MessageAction.PREVIOUS_VERSION, "Previous version", "Ctrl+Alt+Left", True, True),
    (MessageAction.NEXT_VERSION, "Next version", "Ctrl+Alt+Right", True, True),
]
VERSIONS = (MessageAction.PREVIOUS_VERSION, MessageAction.NEXT_VERSION)


class ChatView(QListView):
    """Emits ``action_requested(row, Request)`` for every message action, by mouse, menu or keyboard."""

    action_requested = Signal(int, object)
    notice = Signal(str)  # a short message for the status bar
    panel_closed = Signal()  # the panel shown instead of the empty state went, with the first message

    def __init__(self, theme: Theme, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("chatView")
        self.setAccessibleName("Conversation")
        self.setAccessibleDescription("Messages; press the Menu key for a message's actions.")
        self.conversation = ConversationModel()
        self.setModel(self.conversation)
        self.delegate = MessageDelegate(self, theme)
        self.setItemDelegate(self.delegate)
        warm_up_in_background()  # the first code block of an answer then costs no more than the next
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalScrollBar().setSingleStep(24)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setMouseTracking(True)
        self.setFrameShape(QListView.Shape.NoFrame)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.DefaultContextMenu)

        self.empty_state = inert.plain_label(EMPTY_STATE, self.viewport())
        self.empty_state.setObjectName("emptyState")
        self.empty_state.setTextFormat(Qt.TextFormat.PlainText)
        self.empty_state.setWordWrap(True)
        self.empty_state.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._panel: QWidget | None = None

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
    def _on_link(self, index: QPersistentModelIndex, request: Request) -> None:
        text = self.conversation.item(index.row()).text
        if request.action == MessageAction.OPEN_LINK:
            self.open_link(request.address)
        elif request.action == MessageAction.SHOW_ALL:
            TextViewer(text, self).open()
        elif request.action == MessageAction.SAVE:
            save_text(self, "Save the message", "message.md", text)
        else:
            self.action_requested.emit(index.row(), request)

    def open_link(self, address: str) -> None:
        """A link an answer wrote: a web address opens in the browser once the user saw where it leads."""
        link = web_link(address)
        if link is None:
            shown = inert.one_line(address, 400)
            self.notice.emit(f"Not opened: Hearth opens only web addresses (http, https), and this link is “{shown}”.")
            return
        written = ""
        if link.disguised:
            written = (
                f"The answer wrote it as “{inert.one_line(link.written, 2000)}”, which looks like it leads elsewhere. "
            )
        informative = (
            f"{inert.one_line(link.address, 2000)}\n\n{written}"
            "The model wrote this link; Hearth did not check the site."
        )
        if inert.confirm(self, "Open this web address?", f"This link leads to {link.host}.", informative):
            QDesktopServices.openUrl(QUrl(link.address, QUrl.ParsingMode.StrictMode))

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt naming)
        """A message's actions by keyboard, on the selected message (or the last one)."""
        pressed = QKeySequence(event.keyCombination())
        row = self.currentIndex().row() if self.currentIndex().isValid() else self.conversation.rowCount() - 1
        for action, _, shortcut, user, answer in ACTIONS:
            if row >= 0 and pressed.matches(QKeySequence(shortcut)) == QKeySequence.SequenceMatch.ExactMatch:
                item = self.conversation.item(row)
                if user if item.role == "user" else answer:
                    self.action_requested.emit(row, Request(action))
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
            if action in VERSIONS and item.versions < 2:
                continue
            entry = menu.addAction(text, lambda a=action: self.action_requested.emit(row, Request(a)))
            entry.setShortcut(QKeySequence(shortcut))
        for number, code in enumerate(self.code_blocks(row)):
            first = inert.menu_text(code.splitlines()[0][:30] if code else "")
            menu.addAction(
                f"Copy code block {number + 1}: {first}",
                lambda n=number: self.action_requested.emit(row, Request(MessageAction.COPY_CODE, n)),
            )
        return menu

    # Layout and scrolling
    def _on_data_changed(self, top: QModelIndex, _bottom: QModelIndex) -> None:
        self.delegate.sizeHintChanged.emit(top)

    def show_panel(self, panel: QWidget) -> None:
        """``panel`` (the first-run welcome) fills the empty conversation; it goes with the first message."""
        self._panel = panel
        panel.setParent(self.viewport())
        panel.setGeometry(self.viewport().rect())
        self._update_empty_state()

    def _update_empty_state(self) -> None:
        empty = self.conversation.rowCount() == 0
        if self._panel is not None and not empty:
            self._panel.deleteLater()
            self._panel = None
            self.panel_closed.emit()
        self.empty_state.setVisible(empty and self._panel is None)
        if self._panel is not None:
            self._panel.show()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt naming)
        """The viewport's size. A list lays out again only when its height changes; bubbles wrap to its width."""
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self.scheduleDelayedItemsLayout()
        for shown in (self.empty_state, self._panel):
            if shown is not None:
                shown.setGeometry(self.viewport().rect())

    def scrollTo(  # noqa: N802 (Qt naming)
        self,
        index: QModelIndex | QPersistentModelIndex,
        hint: QAbstractItemView.ScrollHint = QAbstractItemView.ScrollHint.EnsureVisible,
    ) -> None:
        """A click selects its message; a message taller than the view, partly on show, stays where it is read."""
        rect = self.visualRect(index)
        tall = rect.height() > self.viewport().height() and rect.intersects(self.viewport().rect())
        if not (tall and hint == QAbstractItemView.ScrollHint.EnsureVisible):
            super().scrollTo(index, hint)

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
