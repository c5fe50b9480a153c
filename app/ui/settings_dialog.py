"""Settings: privacy, thresholds and budgets, appearance, models and tiers, API keys, and the capability map.

The form and the "Models and tiers" editor are two views of one text, the
user's ``models.toml``: saving puts the form's values into that text (keeping
its comments), validates it like a start-up would, and writes it only when it
is valid. Keys go to the system keychain and are only ever shown masked.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app import __version__
from app.core.config import edit as config_edit
from app.core.config import keys
from app.core.config.load import parse_config
from app.core.config.schema import Config, Privacy, RemoteBase
from app.core.conversation.learning.learner import Learner
from app.core.errors import ConfigError, HearthError
from app.core.paths import UserPaths
from app.core.privacy.policy import PRIVACY_LABELS
from app.core.storage.store import Store
from app.core.system import updates
from app.ui import inert
from app.ui.calibration_line import CalibrationLines
from app.ui.capability_grid import CapabilityGridEditor
from app.ui.toml_editor import LineNumberedEditor

NO_LIMIT = 0.0  # a budget spin box at zero means "no budget"


def _money(parent: QWidget, value: float | None) -> QDoubleSpinBox:
    box = QDoubleSpinBox(parent)
    box.setRange(0.0, 100_000.0)
    box.setDecimals(2)
    box.setPrefix("$ ")
    box.setSpecialValueText("No limit")
    box.setValue(value or NO_LIMIT)
    return box


class SettingsDialog(QDialog):
    PRIVACY_TAB, MODELS_TAB = 0, 2

    def __init__(
        self,
        paths: UserPaths,
        parent: QWidget | None = None,
        tab: int = PRIVACY_TAB,
        learning: tuple[Learner, Store] | None = None,
    ):
        """``learning``: the learner and the window's store, for the line on each model's calibration."""
        super().__init__(parent)
        self.paths = paths
        self.learning = learning
        self.setWindowTitle("Settings")
        self.setAccessibleName("Settings")
        self.resize(720, 560)
        text = config_edit.current_text(paths)
        config = parse_config(text, paths.user_config_file)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self._general(config), "&Privacy and answers")
        self.tabs.addTab(self._appearance(config), "&Appearance")
        self.tabs.addTab(self._models(text), "&Models and tiers")
        self.tabs.addTab(self._keys(config), "API &keys")
        self.capabilities = CapabilityGridEditor(config, self)
        self.tabs.addTab(self.capabilities, "&Capabilities")
        self.tabs.setCurrentIndex(tab)
        self.problem = inert.plain_label("", self)
        self.problem.setObjectName("editBanner")
        self.problem.setWordWrap(True)
        self.problem.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        inert.plain_labels(self)

    # Tabs
    def _general(self, config: Config) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        settings = config.settings
        self.privacy = QComboBox(page)
        for policy in Privacy:
            self.privacy.addItem(PRIVACY_LABELS[policy], policy)
        self.privacy.setCurrentIndex(list(Privacy).index(settings.privacy))
        self.privacy.setAccessibleName("Privacy policy")
        self.threshold = QDoubleSpinBox(page)
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setValue(settings.threshold)
        self.threshold.setAccessibleName("Escalation threshold")
        self.threshold.setToolTip("An answer less confident than this goes to the next tier, if privacy allows it")
        self.max_tokens = QSpinBox(page)
        self.max_tokens.setRange(1, 32768)
        self.max_tokens.setValue(settings.max_answer_tokens)
        self.max_tokens.setAccessibleName("Longest answer in tokens")
        self.monthly = _money(page, settings.monthly_budget)
        self.monthly.setAccessibleName("Monthly budget")
        self.per_message = _money(page, settings.message_budget)
        self.per_message.setAccessibleName("Budget per message")
        self.redact = QCheckBox("Replace e-mails, phones, cards, IBANs and IPs before anything leaves", page)
        self.redact.setChecked(settings.redact)
        self.auto_plan = QCheckBox("Plan a request with several parts: each part goes to the model good at it", page)
        self.auto_plan.setChecked(config.plan.automatic)
        self.auto_plan.setToolTip("The composer's Plan switch does this for one message; this does it whenever")
        self.system_prompt = QLineEdit(settings.system_prompt, page)
        self.system_prompt.setAccessibleName("System prompt")
        self.system_prompt.setPlaceholderText("None: each model's own (best for small models)")
        form.addRow("Where messages may go:", self.privacy)
        form.addRow("Escalate below confidence:", self.threshold)
        form.addRow("Longest answer (tokens):", self.max_tokens)
        form.addRow("Monthly budget:", self.monthly)
        form.addRow("Most one message may cost:", self.per_message)
        form.addRow("", self.redact)
        form.addRow("", self.auto_plan)
        form.addRow("System prompt:", self.system_prompt)
        if self.learning is not None:
            self.calibration = CalibrationLines(*self.learning, parent=page)
            form.addRow("Confidence:", self.calibration)
        self.check_updates = QCheckBox("Check for a newer Hearth once a day", page)
        self.check_updates.setChecked(config.updates.check)
        self.check_updates.setAccessibleName("Check for updates")
        what = inert.plain_label(updates.disclosure(config.updates.url, __version__), page)
        what.setWordWrap(True)
        what.setObjectName("hint")
        form.addRow("Updates:", self.check_updates)
        form.addRow("", what)
        return page

    def _appearance(self, config: Config) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        self.theme = QComboBox(page)
        for value, label in (("system", "Follow the system"), ("light", "Light"), ("dark", "Dark")):
            self.theme.addItem(label, value)
        self.theme.setCurrentIndex(["system", "light", "dark"].index(config.appearance.theme))
        self.theme.setAccessibleName("Theme")
        self.font_size = QSpinBox(page)
        self.font_size.setRange(8, 24)
        self.font_size.setSuffix(" pt")
        self.font_size.setValue(config.appearance.font_size)
        self.font_size.setAccessibleName("Text size")
        form.addRow("Theme:", self.theme)
        form.addRow("Text size:", self.font_size)
        return page

    def _models(self, text: str) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        hint = inert.plain_label(
            "Models and tiers as in models.toml: each comment explains its setting. "
            "Saving checks the file exactly as Hearth does at start-up.",
            page,
        )
        hint.setWordWrap(True)
        self.editor = LineNumberedEditor(text, page)
        self.editor.setAccessibleName("models.toml")
        check = QPushButton("Check", page)
        check.clicked.connect(self.check)
        self.check_result = inert.plain_label("", page)
        row = QHBoxLayout()
        row.addWidget(check)
        row.addWidget(self.check_result, 1)
        layout.addWidget(hint)
        layout.addWidget(self.editor, 1)
        layout.addLayout(row)
        return page

    def _keys(self, config: Config) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        names = sorted({m.key for m in config.models.values() if isinstance(m, RemoteBase) and m.key})
        problem = keys.keychain_problem()
        note = inert.plain_label(
            "Keys are kept in your system keychain, never in Hearth's files."
            + (f"\nThis computer has {problem}; set the environment variables instead." if problem else ""),
            page,
        )
        note.setWordWrap(True)
        self.key_table = QTableWidget(len(names), 3, page)
        self.key_table.setHorizontalHeaderLabels(["Key", "Stored", "Used by"])
        self.key_table.setAccessibleName("API keys")
        self.key_table.verticalHeader().hide()
        self.key_table.horizontalHeader().setStretchLastSection(True)
        for row, name in enumerate(names):
            users = ", ".join(m for m, c in config.models.items() if isinstance(c, RemoteBase) and c.key == name)
            self.key_table.setItem(row, 0, QTableWidgetItem(name))
            self.key_table.setItem(row, 2, QTableWidgetItem(users))
        self._show_key_states()
        buttons = QHBoxLayout()
        set_key = QPushButton("Set key…", page)
        set_key.clicked.connect(self.set_key)
        delete_key = QPushButton("Delete key", page)
        delete_key.clicked.connect(self.delete_key)
        buttons.addWidget(set_key)
        buttons.addWidget(delete_key)
        buttons.addStretch(1)
        layout.addWidget(note)
        layout.addWidget(self.key_table, 1)
        layout.addLayout(buttons)
        if not names:
            layout.addWidget(inert.plain_label("No configured model needs a key.", page))
        return page

    def _show_key_states(self) -> None:
        for row in range(self.key_table.rowCount()):
            name = self.key_table.item(row, 0).text()
            found = keys.where(name)
            shown = (
                "not set" if found is None else f"•••••••• ({'environment' if found == 'environment' else 'keychain'})"
            )
            self.key_table.setItem(row, 1, QTableWidgetItem(shown))

    def _selected_key(self) -> str | None:
        row = self.key_table.currentRow()
        return None if row < 0 else self.key_table.item(row, 0).text()

    def set_key(self) -> None:
        name = self._selected_key()
        if name is None:
            return
        ask = QInputDialog(self)
        ask.setWindowTitle("Set key")
        ask.setLabelText(f"API key for {name}:")  # the key's name is a setting: shown as plain text
        ask.setTextEchoMode(QLineEdit.EchoMode.Password)
        inert.plain_labels(ask)
        if not ask.exec():
            return
        try:
            keys.store_key(name, ask.textValue())
        except HearthError as exc:
            inert.warn(self, "The key was not stored", str(exc))
        self._show_key_states()

    def delete_key(self) -> None:
        name = self._selected_key()
        if name is not None:
            try:
                keys.delete_key(name)
            except HearthError as exc:
                inert.warn(self, "The key was not deleted", str(exc))
            self._show_key_states()

    # Saving
    def edited_text(self) -> str:
        """The editor's text with the form's values put in."""
        none_if_zero = lambda box: box.value() or None  # noqa: E731
        text = config_edit.with_model_values(
            self.editor.toPlainText(),
            self.paths.user_config_file,
            {model_id: {"good_at": tags} for model_id, tags in self.capabilities.changed().items()},
        )
        return config_edit.with_values(
            text,
            self.paths.user_config_file,
            {
                "settings": {
                    "privacy": str(self.privacy.currentData()),
                    "threshold": round(self.threshold.value(), 4),
                    "max_answer_tokens": self.max_tokens.value(),
                    "monthly_budget": none_if_zero(self.monthly),
                    "message_budget": none_if_zero(self.per_message),
                    "redact": self.redact.isChecked(),
                    "system_prompt": self.system_prompt.text(),
                },
                "appearance": {"theme": self.theme.currentData(), "font_size": self.font_size.value()},
                "updates": {"check": self.check_updates.isChecked()},
                "plan": {"automatic": self.auto_plan.isChecked()},
            },
        )

    def check(self) -> bool:
        try:
            parse_config(self.edited_text(), self.paths.user_config_file)
        except ConfigError as exc:
            self.check_result.setText(str(exc))
            self.problem.setText(f"Not saved: {exc}")
            self.problem.show()
            return False
        self.check_result.setText("The configuration is valid.")
        self.problem.hide()
        return True

    def save(self) -> None:
        if not self.check():
            return
        try:
            config_edit.save(self.paths, self.edited_text())
        except ConfigError as exc:
            self.problem.setText(f"Not saved: {exc}")
            self.problem.show()
            return
        self.accept()
