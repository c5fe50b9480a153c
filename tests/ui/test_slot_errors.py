"""An error nobody expected, raised in something the window was doing (a slot, an event handler), is shown
to the user in plain text and kept in a crash report, and the window goes on. A real window, a real slot."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from app.core.errors import NotFound
from app.core.system import crash_reports
from app.ui import slot_errors
from tests.window_helpers import open_window

PLANTED = "sk-PLANTED-slot-7a6b5c4d3e2f"


@pytest.fixture
def handler(monkeypatch: pytest.MonkeyPatch, configured_home: Path):
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # put back after the test
    monkeypatch.setenv("HEARTH_KEY_HOME", PLANTED)
    return slot_errors.install(QApplication.instance(), configured_home / "data", lambda: [PLANTED])


def search_fails_with(win, error: Exception) -> None:
    def failing(query: str, limit: int = 50):
        raise error

    win.store.search = failing


def dialog(qtbot) -> QMessageBox:
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), QMessageBox), timeout=5_000)
    box = QApplication.activeModalWidget()
    assert isinstance(box, QMessageBox)
    return box


@pytest.mark.qt_no_exception_capture
def test_an_unexpected_error_in_a_slot_shows_a_dialog_and_writes_a_report(qtbot, handler, configured_home: Path):
    with open_window(qtbot, prepare=False) as win:
        search_fails_with(win, RuntimeError(f"<b>boom</b> with {PLANTED}"))
        qtbot.keyClicks(win.sidebar.search, "paris")
        box = dialog(qtbot)
        assert box.textFormat() == Qt.TextFormat.PlainText
        assert "RuntimeError: <b>boom</b> with [key removed]" in box.text() and PLANTED not in box.text()
        assert "Hearth is still running" in box.text()
        (report,) = (configured_home / "data" / "crash-reports" / crash_reports.SEEN).glob("crash-*.txt")
        assert str(report) in box.informativeText()
        text = report.read_text(encoding="utf-8")
        assert "Traceback" in text and "in search" in text and PLANTED not in text
        assert crash_reports.pending(configured_home / "data") == []  # seen: not offered again at the next start
        box.accept()
        qtbot.keyClicks(win.sidebar.search, "x")  # the same error again: reported once, not a dialog per key
        qtbot.wait(200)
        assert QApplication.activeModalWidget() is None
        win.sidebar.search.clear()
        assert win.isVisible()


@pytest.mark.qt_no_exception_capture
def test_an_error_of_hearths_own_in_a_slot_shows_its_message_and_no_report(qtbot, handler, configured_home: Path):
    with open_window(qtbot, prepare=False) as win:
        search_fails_with(win, NotFound("There is no conversation 7."))
        qtbot.keyClicks(win.sidebar.search, "paris")
        box = dialog(qtbot)
        assert "There is no conversation 7." in box.text() and box.informativeText() == ""
        box.accept()
    assert not (configured_home / "data" / "crash-reports").exists()
