"""Driving the window the way a user does: typing, clicking links in messages, waiting for answers."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import QPoint, Qt, QThreadPool, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from app.core.store import Store
from app.ui.conversation_model import MessageItem
from app.ui.main import build_window, create_app

ANSWER_TIMEOUT_MS = 120_000


@contextmanager
def open_window(qtbot, prepare: bool = True):
    create_app()
    win = build_window()
    qtbot.addWidget(win)
    win.show()
    if prepare:
        win.prepare_model()
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


def link_point(win, row: int, href: str) -> QPoint:
    """Where the link ``href`` is painted in message ``row``: found by asking the delegate, as a click would."""
    view = win.chat
    index = view.conversation.index(row)
    view.scrollTo(index)
    rect = view.visualRect(index)
    for y in range(rect.top(), rect.bottom(), 3):
        for x in range(rect.left(), rect.right(), 4):
            if view.delegate.anchor_at(index, rect, QPoint(x, y)) == href:
                return QPoint(x + 1, y + 1)
    raise AssertionError(f"no link {href!r} in message {row}")


def click_link(qtbot, win, row: int, href: str) -> None:
    qtbot.mouseClick(win.chat.viewport(), Qt.MouseButton.LeftButton, pos=link_point(win, row, href))


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
