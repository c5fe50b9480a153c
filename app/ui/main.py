"""Start the desktop window."""

from __future__ import annotations

import sys

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from app.core.config import keys
from app.core.errors import ConfigError, StorageError
from app.core.paths import bundled, user_paths
from app.core.session import Session, open_session
from app.ui import inert, slot_errors, theme
from app.ui.consent import ConsentBridge
from app.ui.crash_offer import offer_crash_reports
from app.ui.database_dialog import check_database
from app.ui.main_window import MainWindow
from app.ui.progress import ProgressRelay
from app.ui.welcome import first_run

# Qt calls back into Python many times per paint, taking the GIL each time; while a worker streams
# an answer, each take waits up to the interpreter's switch interval (5 ms by default), and a paint
# of a long answer added those waits up past 100 ms. At 1 ms the window keeps up (bench/large_answers).
UI_SWITCH_INTERVAL_S = 0.001


def create_app(argv: list[str] | None = None) -> QApplication:
    sys.setswitchinterval(UI_SWITCH_INTERVAL_S)
    app = QApplication.instance() or QApplication(argv or sys.argv)
    app.setApplicationName("Hearth")
    app.setOrganizationName("Hearth")
    app.setDesktopFileName("hearth")
    app.setWindowIcon(QIcon(str(bundled("resources/hearth.svg"))))
    return app  # type: ignore[return-value]  (styled by build_window, once the configuration is read)


def build_window() -> MainWindow:
    """Load the configuration and build the window; raises ConfigError before any window exists."""
    relay = ProgressRelay()
    consent = ConsentBridge()

    def reopen() -> Session:
        return open_session(progress=relay.report, consent=consent.ask)

    session = reopen()
    theme.apply(
        QApplication.instance(),  # type: ignore[arg-type]
        theme.resolve(session.config.appearance.theme),
        session.config.appearance.font_size,
    )
    window = MainWindow(session, relay, reopen)
    consent.dialog_parent = window
    consent.setParent(window)
    consent.decided.connect(window.answers.consent_decided)
    relay.setParent(window)
    return window


def run_window() -> int:
    app = create_app()
    paths = user_paths()
    slot_errors.install(app, paths.data, lambda: keys.known_secrets(paths))
    if not check_database(paths.database):
        return 1
    try:
        window = build_window()
    except ConfigError as exc:
        text = f"Your configuration has a problem:\n\n{exc}"
        inert.message_box(None, QMessageBox.Icon.Critical, "Hearth cannot start", text).exec()
        return exc.exit_code
    except StorageError as exc:  # read-only, locked, or damaged in a way the check at start did not see
        inert.message_box(None, QMessageBox.Icon.Critical, "Hearth cannot open your conversations", str(exc)).exec()
        return exc.exit_code
    window.show()
    window.model.prepare()
    window.start_upkeep()
    if first_run(window.session.paths.data):
        window.show_welcome()
    else:
        offer_crash_reports(window, window.session.paths.data)
    code = app.exec()
    window.session.close()
    return code
