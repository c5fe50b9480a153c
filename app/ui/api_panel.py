"""The window's switch for Hearth's local API: on or off, its address, its key, and how busy it is.

The server runs while the window is open (closing this panel leaves it on). Requests that
need consent are asked about in the window's own consent dialog, which names the calling
program. What a request may do is decided in the core (app/core/api); this only shows it.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.api import history
from app.core.api.access import ServerKey, rotate_key, server_key
from app.core.api.answering import CASCADE_MODEL, ApiAnswers
from app.core.api.http import create_app
from app.core.api.server import ApiServer, address, exposure
from app.core.config import edit as config_edit
from app.core.errors import HearthError
from app.core.session import Session
from app.ui import inert

REFRESH_MS = 500


class ApiSwitch(QObject):
    """The server's life in the window: started and stopped here, restarted when the settings change."""

    changed = Signal()
    kept = Signal(int)  # a program's conversation was kept in the history (emitted from its answering thread)

    def __init__(self, session: Callable[[], Session], parent: QObject | None = None):
        super().__init__(parent)
        self._session = session
        self._server: ApiServer | None = None
        self._answers: ApiAnswers | None = None
        self.key: ServerKey | None = None
        self._keep_history: bool | None = None  # as changed here, before the session reads the saved file again

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def address(self) -> str:
        if self._server is not None:
            return self._server.address
        settings = self._session().config.server
        return address(settings.host, settings.port)

    @property
    def exposure(self) -> str | None:
        """A warning when the configured address lets other computers in."""
        return exposure(self._session().config.server.host)

    @property
    def keeps_history(self) -> bool:
        if self._keep_history is not None:
            return self._keep_history
        return self._session().config.server.keep_history

    def set_keep_history(self, on: bool) -> None:
        """Save the choice in models.toml; it holds at once for the server running now. Raises ConfigError."""
        paths = self._session().paths
        text = config_edit.current_text(paths)
        config_edit.save(paths, config_edit.with_values(text, paths.user_config_file, {"server": {"keep_history": on}}))
        self._keep_history = on
        if self._answers is not None:
            self._answers.keep_history = on
        self.changed.emit()

    def requests(self) -> int:
        return self._answers.in_progress() if self._answers is not None else 0

    def start(self) -> None:
        """Raises HearthError (a port in use, no keychain) with what to do."""
        if self._server is not None:
            return
        session = self._session()
        self.key = server_key()
        settings = session.config.server
        answers = ApiAnswers(session.chat, session.open_store, session.chat.gate.consent, self.keeps_history)
        answers.kept = self.kept.emit
        server = ApiServer(create_app(answers, self._current_key, settings.cors_origins), settings.host, settings.port)
        server.start()
        self._server, self._answers = server, answers
        self.changed.emit()

    def _current_key(self) -> ServerKey:
        assert self.key is not None
        return self.key

    def rotate(self) -> None:
        self.key = rotate_key()
        self.changed.emit()

    def stop(self) -> None:
        if self._answers is not None:
            self._answers.stop_all()  # answers in progress end at their next token
        if self._server is not None:
            self._server.stop()
        self._server = self._answers = None
        self.changed.emit()

    def restart(self) -> None:
        """The session changed (new settings): serve it instead of the old one."""
        if self._server is not None:
            self.stop()
            self.start()


class ApiPanel(QDialog):
    def __init__(self, switch: ApiSwitch, parent: QWidget | None = None):
        super().__init__(parent)
        self.switch = switch
        self.setWindowTitle("Local API")
        self.setAccessibleName("Local API")
        self.resize(700, 440)
        self.serving = QCheckBox("Let programs on this computer use Hearth (OpenAI-compatible API)", self)
        self.serving.setAccessibleName("Serve Hearth's API")
        self.keep = QCheckBox("Keep programs' conversations in the history (marked “API”)", self)
        self.keep.setAccessibleName("Keep API conversations")
        self.address = QLineEdit(self)
        self.address.setReadOnly(True)
        self.address.setAccessibleName("Address")
        self.key = QLineEdit(self)
        self.key.setReadOnly(True)
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setAccessibleName("API key")
        self.key.setMinimumWidth(self.key.fontMetrics().horizontalAdvance("0" * 50))  # the whole key, shown
        self.show_key = QPushButton("Show", self)
        self.show_key.setCheckable(True)
        self.copy_key = QPushButton("Copy", self)
        self.new_key = QPushButton("New key…", self)
        self.new_key.setToolTip("Programs holding the old key are refused from now on.")
        keys = QHBoxLayout()
        keys.addWidget(self.key, 1)
        for button in (self.show_key, self.copy_key, self.new_key):
            keys.addWidget(button)
        self.requests = inert.plain_label("", self)
        self.requests.setAccessibleName("Requests in progress")
        self.note = inert.plain_label("", self)
        self.note.setWordWrap(True)
        self.note.setAlignment(Qt.AlignmentFlag.AlignTop)
        form = QFormLayout()
        form.addRow("Address", self.address)
        form.addRow("Key", keys)
        form.addRow("Requests now", self.requests)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.serving)
        layout.addLayout(form)
        layout.addWidget(self.keep)
        layout.addWidget(self.note, 1)
        layout.addWidget(buttons)

        self.serving.setChecked(switch.running)
        self.serving.toggled.connect(self._toggle)
        self.keep.setChecked(switch.keeps_history)
        self.keep.toggled.connect(self._keep)
        self.show_key.toggled.connect(self._show_key)
        self.copy_key.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.key.text()))
        self.new_key.clicked.connect(self._rotate)
        switch.changed.connect(self._refresh)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._count)
        self._timer.start()
        self._problem = ""
        self._refresh()

    def _toggle(self, on: bool) -> None:
        self._problem = ""
        try:
            self.switch.start() if on else self.switch.stop()
        except HearthError as exc:
            self._problem = str(exc)
            self.serving.blockSignals(True)
            self.serving.setChecked(False)
            self.serving.blockSignals(False)
        self._refresh()

    def _keep(self, on: bool) -> None:
        self._problem = ""
        try:
            self.switch.set_keep_history(on)
        except HearthError as exc:
            self._problem = str(exc)
            self.keep.blockSignals(True)
            self.keep.setChecked(not on)
            self.keep.blockSignals(False)
        self._refresh()

    def _rotate(self) -> None:
        if not inert.confirm(
            self,
            "New API key",
            "Make a new key?",
            "Programs that use the current key will be refused until they are given the new one.",
        ):
            return
        try:
            self.switch.rotate()
        except HearthError as exc:
            self._problem = str(exc)
            self._refresh()

    def _show_key(self, shown: bool) -> None:
        self.key.setEchoMode(QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password)
        self.show_key.setText("Hide" if shown else "Show")

    def _refresh(self) -> None:
        switch = self.switch
        self.address.setText(switch.address)
        key = switch.key
        self.key.setText(key.value if key else "")
        for widget in (self.key, self.show_key, self.copy_key):
            widget.setEnabled(key is not None)
        self.new_key.setEnabled(key is not None and key.rotatable)
        lines = [self._problem] if self._problem else []
        if switch.running:
            lines.append(
                f"Programs use it as an OpenAI server at this address, with the key; the model '{CASCADE_MODEL}' is "
                "Hearth's cascade under your privacy policy. Whatever needs your consent is asked here, naming the "
                'program. What leaves is in the audit, marked "via API".'
            )
            lines.append(history.described(switch.keeps_history))
            if key is not None:
                lines.append(f"The key is kept in {key.where}.")
            warning = switch.exposure
            if warning:
                lines.append(f"⚠ {warning}")
        elif not self._problem:
            lines.append(f"Off. When on, it listens on {switch.address} while this window is open.")
        self.note.setText("\n\n".join(lines))
        self._count()

    def _count(self) -> None:
        self.requests.setText(str(self.switch.requests()) if self.switch.running else "—")
