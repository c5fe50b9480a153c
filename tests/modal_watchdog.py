"""A modal dialog nobody answers fails its test instead of hanging the suite.

A dialog's ``exec()`` runs Qt's own event loop, where Python's signal handlers (and so
pytest-timeout) never get a turn: one unanswered box would wait for a click for ever.
While a Qt test runs, a timer (timers fire inside nested loops too) looks for a modal
window; one still open after ``PATIENCE_S`` is recorded, rejected, and the test fails
naming it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator

import pytest

PATIENCE_S = 20.0


def _describe(widget) -> str:
    from PySide6.QtWidgets import QMessageBox

    text = widget.text() if isinstance(widget, QMessageBox) else ""
    return f"{type(widget).__name__} “{widget.windowTitle()}” {text}".strip()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    if "PySide6.QtWidgets" not in sys.modules:
        return (yield)
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QDialog

    if QApplication.instance() is None:
        return (yield)
    seen: dict[int, float] = {}
    left_open: list[str] = []

    def look() -> None:
        modal = QApplication.activeModalWidget()
        if modal is None:
            seen.clear()
            return
        first = seen.setdefault(id(modal), time.monotonic())
        if time.monotonic() - first > PATIENCE_S:
            left_open.append(_describe(modal))
            seen.pop(id(modal))
            modal.reject() if isinstance(modal, QDialog) else modal.close()

    timer = QTimer()
    timer.setInterval(500)
    timer.timeout.connect(look)
    timer.start()
    try:
        outcome = yield
    finally:
        timer.stop()
    if left_open:
        pytest.fail(f"a modal dialog waited for a click that no test gives: {left_open}", pytrace=False)
    return outcome
