"""Driving the window the way a user does: typing, clicking links in messages, waiting for answers."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import QPoint, Qt, QThreadPool, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from app.core.storage.store import Store
from app.ui.conversation_model import MessageItem
from app.ui.main import build_window, create_app
from app.ui.message_actions import MessageAction, Request

ANSWER_TIMEOUT_MS = 120_000


@contextmanager
def open_window(qtbot, prepare: bool = True):
    create_app()
    win = build_window()
    qtbot.addWidget(win)
    win.show()
    if prepare:
        win.model.prepare()
    try:
        yield win
    finally:
        win.close()
        win.session.close()
        assert QThreadPool.globalInstance().waitForDone(30_000), "a worker thread was left running"


def type_and_send(qtbot, win, text: str) -> None:
    qtbot.keyClicks(win.composer.edit, text)
    qtbot.keyClick(win.composer.edit, Qt.Key.Key_Return)


def items(win) -> list[MessageItem]:
    return win.chat.conversation.items()


def last(win) -> MessageItem:
    return items(win)[-1]


def wait_for_answer(qtbot, win) -> MessageItem:
    qtbot.waitUntil(
        lambda: win.composer.send_button.isVisible() and not last(win).streaming and last(win).badge is not None,
        timeout=ANSWER_TIMEOUT_MS,
    )
    return last(win)


def wait_idle(qtbot, win) -> None:
    qtbot.waitUntil(lambda: win.composer.send_button.isVisible(), timeout=ANSWER_TIMEOUT_MS)


def link_point(win, row: int, action: MessageAction, address: str = "") -> QPoint:
    """Where the link for ``action`` is painted in message ``row``: found by asking the delegate, as a click would.

    For a link the answer wrote (OPEN_LINK), the one that points to ``address``.
    """
    for point, request in _requests(win, row):
        if request.action == action and request.address == address:
            return point
    raise AssertionError(f"no link for {action} {address!r} in message {row}")


def requests_in(win, row: int) -> list[Request]:
    """Every request a click on message ``row`` could make, where it is on screen (the end of a tall one)."""
    found: list[Request] = []
    for _, request in _requests(win, row):
        if request not in found:
            found.append(request)
    return found


def _requests(win, row: int):
    """(where, what) for each point of message ``row`` on screen that is a link: from its end up."""
    view = win.chat
    index = view.conversation.index(row)
    QApplication.processEvents()  # the view's layout is done later
    view.scrollTo(index)
    rect = view.visualRect(index)
    if rect.bottom() > view.viewport().rect().bottom():  # a message taller than the view: its end
        bar = view.verticalScrollBar()
        bar.setValue(bar.value() + rect.bottom() - view.viewport().rect().bottom())
        rect = view.visualRect(index)
    area = rect.intersected(view.viewport().rect())
    for y in range(area.bottom(), area.top(), -3):
        for x in range(area.left(), area.right(), 4):
            request = view.delegate.request_at(index, rect, QPoint(x, y))
            if request is not None:
                yield QPoint(x, y), request


def click_link(qtbot, win, row: int, action: MessageAction, address: str = "") -> None:
    qtbot.mouseClick(win.chat.viewport(), Qt.MouseButton.LeftButton, pos=link_point(win, row, action, address))


def stored_messages(home: Path):
    store = Store(home / "data" / "hearth.db")
    try:
        return store.messages(store.conversations()[0].id)
    finally:
        store.close()


def open_store(home: Path) -> Store:
    return Store(home / "data" / "hearth.db")


def answer_dialogs(*buttons: str) -> list[str]:
    """Click, in turn, the button whose text starts with each of ``buttons`` on the message boxes that open,
    as a user would; returns the text each one showed (its text, then its informative text)."""
    shown: list[str] = []
    remaining = list(buttons)

    def answer_one() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox) and box.isVisible():
            shown.append(f"{box.text()}\n{box.informativeText()}")
            label = remaining.pop(0)
            next(b for b in box.buttons() if b.text().replace("&", "").startswith(label)).click()
        if remaining:
            QTimer.singleShot(20, answer_one)

    QTimer.singleShot(0, answer_one)
    return shown
