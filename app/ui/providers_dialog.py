"""Tools → Providers: the services (add, verify, price), the tiers (see and reorder), and models.toml itself."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHBoxLayout, QPushButton, QTabWidget, QVBoxLayout, QWidget

from app.core.config import edit as config_edit
from app.core.errors import ConfigError
from app.core.session import Session
from app.ui import inert
from app.ui.providers_page import ProvidersPage
from app.ui.tiers_page import TiersPage
from app.ui.toml_editor import LineNumberedEditor


class ProvidersDialog(QDialog):
    PROVIDERS_TAB, TIERS_TAB, ADVANCED_TAB = 0, 1, 2

    def __init__(self, session: Session, parent: QWidget | None = None, tab: int = PROVIDERS_TAB):
        super().__init__(parent)
        self.session = session
        self.config_changed = False
        self.setWindowTitle("Providers and tiers")
        self.setAccessibleName("Providers and tiers")
        self.resize(960, 640)
        self.providers = ProvidersPage(session, self)
        self.tiers = TiersPage(session, self)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self.providers, "&Providers")
        self.tabs.addTab(self.tiers, "&Tiers")
        self.tabs.addTab(self._advanced(), "&Advanced: models.toml")
        self.tabs.setCurrentIndex(tab)
        self.providers.changed.connect(self._changed)
        self.tiers.changed.connect(self._changed)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(buttons)

    def _advanced(self) -> QWidget:
        page = QWidget(self)
        hint = inert.plain_label(
            "models.toml itself, for what the other tabs do not cover: each comment explains its setting. "
            "Saving checks it exactly as Hearth does at start-up.",
            page,
        )
        hint.setWordWrap(True)
        self.editor = LineNumberedEditor(config_edit.current_text(self.session.paths), page)
        self.editor.setAccessibleName("models.toml")
        save = QPushButton("Check and save", page)
        save.clicked.connect(self.save_text)
        self.text_result = inert.plain_label("", page)
        self.text_result.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(save)
        row.addWidget(self.text_result, 1)
        layout = QVBoxLayout(page)
        layout.addWidget(hint)
        layout.addWidget(self.editor, 1)
        layout.addLayout(row)
        return page

    def save_text(self) -> None:
        try:
            config_edit.save(self.session.paths, self.editor.toPlainText())
        except ConfigError as exc:
            self.text_result.setText(f"Not saved: {exc}")
            if exc.line:
                self.editor.go_to_line(exc.line)
            return
        self.text_result.setText("Saved: the configuration is valid.")
        self._changed(from_editor=True)

    def _changed(self, from_editor: bool = False) -> None:
        self.config_changed = True
        self.providers.reload()
        self.tiers.reload()
        if not from_editor:
            self.editor.setPlainText(config_edit.current_text(self.session.paths))

    def done(self, result: int) -> None:
        self.providers.wait_for_work()
        super().done(result)
