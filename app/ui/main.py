"""Start the desktop window."""

from __future__ import annotations

import sys

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from app.core.errors import ConfigError
from app.core.paths import bundled
from app.core.session import open_session
from app.ui.consent import ConsentBridge
from app.ui.main_window import MainWindow, ProgressRelay


def create_app(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv or sys.argv)
    app.setApplicationName("Hearth")
    app.setOrganizationName("Hearth")
    app.setWindowIcon(QIcon(str(bundled("resources/hearth.svg"))))
    app.setStyleSheet(bundled("resources/style.qss").read_text(encoding="utf-8"))
    return app  # type: ignore[return-value]


def build_window() -> MainWindow:
    """Load the configuration and build the window; raises ConfigError before any window exists."""
    relay = ProgressRelay()
    consent = ConsentBridge()
    session = open_session(progress=relay.report, consent=consent.ask)
    window = MainWindow(session, relay)
    consent.dialog_parent = window
    consent.setParent(window)
    relay.setParent(window)
    return window


def run_window() -> int:
    app = create_app()
    try:
        window = build_window()
    except ConfigError as exc:
        QMessageBox.critical(None, "Hearth cannot start", f"Your configuration has a problem:\n\n{exc}")
        return 2
    window.show()
    window.prepare_model()
    window.start_upkeep()
    code = app.exec()
    window.session.close()
    return code
