"""Tools → Providers: pick a service, paste its key, Verify, pick a model, add it to a tier.

Everything here presents app/core/services: the presets, the keys, Verify and the model list
(sent through the outgoing gate on a worker thread), the price table and the models.toml edits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.core.config import key_list
from app.core.config.load import load_config
from app.core.config.presets import Preset, presets
from app.core.config.schema import Config, Location
from app.core.errors import HearthError
from app.core.privacy.policy import PRIVACY_LABELS, Allowance, allowance
from app.core.providers.http_clients import client_for
from app.core.providers.pricing import price_text
from app.core.services import checks, discovery, operations
from app.core.services.connection import Connection
from app.core.services.model_list import ListedModel
from app.core.session import Session
from app.core.storage.store import Store
from app.ui import inert
from app.ui.worker import GeneratorWorker, call_worker, start

WHERE = {Location.CLOUD: "cloud", Location.SELF_HOSTED: "your server"}
ALLOW = {Location.CLOUD: "Allow cloud models, asking first", Location.SELF_HOSTED: "Allow my own servers"}


class ProvidersPage(QWidget):
    changed = Signal()  # models.toml was written

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.config: Config = load_config(session.paths)
        self.listed: list[ListedModel] = []
        self._worker: GeneratorWorker | None = None
        self.services = QListWidget(self)
        self.services.setAccessibleName("Providers")
        for known in presets():
            item = QListWidgetItem(f"{known.name}  ·  {WHERE[known.location]}", self.services)
            item.setData(Qt.ItemDataRole.UserRole, known)
        self.find = QPushButton("Find servers on this computer", self)
        self.find.setToolTip("Asks ports 11434, 1234, 8080 and 8000 on this computer only")
        self.find.clicked.connect(self.find_servers)
        left = QWidget(self)
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.services, 1)
        column.addWidget(self.find)
        splitter = QSplitter(self)
        splitter.addWidget(left)
        splitter.addWidget(self._details())
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([300, 560])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self.services.currentItemChanged.connect(self._picked)
        self.services.setCurrentRow(0)
        inert.plain_labels(self)

    def _details(self) -> QWidget:
        box = QWidget(self)
        form = QFormLayout(box)
        self.title = inert.plain_label("", box)
        heading = self.title.font()
        heading.setBold(True)
        heading.setPointSizeF(heading.pointSizeF() * 1.3)
        self.title.setFont(heading)
        self.where = inert.plain_label("", box)
        self.where.setWordWrap(True)
        self.name = QLineEdit(box)
        self.name.setAccessibleName("Name")
        self.address = QLineEdit(box)
        self.address.setAccessibleName("Address")
        self.location = QComboBox(box)
        self.location.setAccessibleName("Runs")
        for where in (Location.SELF_HOSTED, Location.CLOUD):
            self.location.addItem("on a server of yours" if where is Location.SELF_HOSTED else "in the cloud", where)
        self.key = QLineEdit(box)
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setAccessibleName("API key")
        self.key_state = inert.plain_label("", box)
        self.key_state.setWordWrap(True)
        self.stored_keys = QListWidget(box)
        self.stored_keys.setAccessibleName("Stored keys")
        self.stored_keys.setMaximumHeight(70)
        self.save_key_button = save_key = QPushButton("Save key", box)
        save_key.setToolTip("Keep this key in the keychain as the next key for this service")
        save_key.clicked.connect(self.save_key)
        remove_key = QPushButton("Remove key", box)
        remove_key.clicked.connect(self.remove_key)
        key_buttons = QHBoxLayout()
        key_buttons.addWidget(save_key)
        key_buttons.addWidget(remove_key)
        key_buttons.addStretch(1)
        self.verify_button = QPushButton("Verify", box)
        self.verify_button.clicked.connect(self.verify)
        self.fetch_button = QPushButton("Fetch the model list", box)
        self.fetch_button.clicked.connect(self.fetch_models)
        checks_row = QHBoxLayout()
        checks_row.addWidget(self.verify_button)
        checks_row.addWidget(self.fetch_button)
        checks_row.addStretch(1)
        self.model = QComboBox(box)
        self.model.setEditable(True)
        self.model.setAccessibleName("Model")
        self.model.currentTextChanged.connect(self._show_price)
        self.price = inert.plain_label("", box)
        self.add_button = QPushButton("Add to tiers", box)
        self.add_button.setDefault(True)
        self.add_button.clicked.connect(self.add)
        self.policy = inert.plain_label("", box)
        self.policy.setWordWrap(True)
        self.policy.setObjectName("editBanner")
        self.allow = QPushButton("", box)
        self.allow.clicked.connect(self.allow_location)
        self.result = inert.plain_label("", box)
        self.result.setWordWrap(True)
        self.result.setAccessibleName("Result")
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(self.title)
        form.addRow(self.where)
        rows = [("Name:", self.name), ("Address:", self.address), ("Runs:", self.location), ("API key:", self.key)]
        rows += [("", self.key_state), ("Stored keys:", self.stored_keys), ("", key_buttons), ("", checks_row)]
        rows += [("Model:", self.model), ("Price:", self.price), ("", self.add_button)]
        for label, field in rows:
            form.addRow(label, field)
        form.addRow(self.policy)
        form.addRow("", self.allow)
        form.addRow(self.result)
        return box

    # Showing a preset
    def _picked(self, item: QListWidgetItem | None, _: QListWidgetItem | None) -> None:
        if item is not None:
            self.show_preset(item.data(Qt.ItemDataRole.UserRole))

    @property
    def preset(self) -> Preset:
        return self.services.currentItem().data(Qt.ItemDataRole.UserRole)

    def show_preset(self, preset: Preset, base_url: str | None = None, models: list[str] | None = None) -> None:
        self.listed = []
        self.title.setText(preset.name)
        self.where.setText(
            f"Runs in the cloud: what Hearth sends it goes to {preset.name}."
            if preset.location is Location.CLOUD
            else "Runs on a server of yours (on this computer or your network)."
        )
        self.name.setText(preset.id if not preset.custom else "my-server")
        self.name.setReadOnly(not preset.custom)
        self.address.setText(base_url or preset.base_url)
        self.address.setPlaceholderText("http://192.168.1.20:8080/v1" if preset.custom else "")
        self.location.setCurrentIndex(self.location.findData(preset.location))
        self.location.setEnabled(preset.custom)
        self.key.clear()
        self.key.setEnabled(preset.key is not None or preset.custom)
        where_from = f" (from {preset.key_page})" if preset.key_page else ""
        self.key.setPlaceholderText(f"Paste your key{where_from}" if preset.key else "Most servers of yours need none")
        self.model.clear()
        if models is not None:
            self.model.addItems(models)
        else:
            self.model.addItems(operations.suggested_models(self._connection_or_none() or _bare(preset)))
        self.result.clear()
        self._show_keys()
        self._show_policy()
        self._show_price()

    def _connection_or_none(self) -> Connection | None:
        try:
            return self.connection()
        except HearthError:
            return None

    def connection(self) -> Connection:
        preset = self.preset
        with_key = bool(self.key.text().strip()) or preset.key is not None
        return Connection.of(
            preset,
            name=self.name.text().strip() or None,
            base_url=self.address.text().strip() or None,
            location=self.location.currentData(),
            with_key=with_key,
        )

    def _show_keys(self) -> None:
        self.stored_keys.clear()
        connection = self._connection_or_none()
        if connection is None or connection.key is None:
            self.key_state.setText("This service needs no API key.")
            return
        status = key_list.status(connection.key)
        self.save_key_button.setEnabled(status.keychain_problem is None)
        for stored in status.stored:
            ending = f" …{stored.ending}" if stored.ending else ""
            QListWidgetItem(f"••••••••{ending}  ({stored.found_in}, {stored.slot})", self.stored_keys)
        note = status.no_keychain_note()
        self.key_state.setText(
            note
            or (
                f"{status.summary()}; with several, the next is used when one is refused or rate-limited."
                if status.stored
                else "No key stored yet. Keys are kept in your system keychain, never in Hearth's files."
            )
        )

    def _show_policy(self) -> None:
        location = Location(self.location.currentData())
        privacy = self.config.settings.privacy
        rule = allowance(privacy, location)
        label = PRIVACY_LABELS[privacy]
        if rule is Allowance.FORBIDDEN:
            self.policy.setText(
                f"Your privacy setting '{label}' does not allow {location.value} models: Verify cannot reach this "
                "service, and a model added here is never asked until you allow it."
            )
            self.allow.setText(ALLOW[location])
        self.policy.setVisible(rule is Allowance.FORBIDDEN)
        self.allow.setVisible(rule is Allowance.FORBIDDEN)

    def _show_price(self) -> None:
        connection = self._connection_or_none()
        model = self.model.currentText().strip()
        if connection is None or not model:
            self.price.setText("")
            return
        price = operations.listed_price(connection, model, self.listed)
        source = f" ({price.source})" if price and not price.free else ""
        self.price.setText(price_text(price) + source)

    def _typed_keys(self, connection: Connection) -> list[str]:
        typed = [self.key.text().strip()] if self.key.text().strip() else []
        return typed + (key_list.api_keys(connection.key) if connection.key else [])

    # Actions
    def _report(self, text: str) -> None:
        self.result.setText(text)

    def _run(self, call: Callable[[], Any], done: Callable[[Any], None]) -> None:
        """``call`` on a worker thread; ``done`` with its result here, or its error shown in words."""
        if self._worker is not None:
            return
        self._report("Asking…")
        self.verify_button.setEnabled(False)
        self.fetch_button.setEnabled(False)
        worker = call_worker(call)
        worker.signals.item.connect(done)
        worker.signals.failed.connect(self._report)
        worker.signals.done.connect(self._finished)
        self._worker = start(worker)

    def _finished(self) -> None:
        self._worker = None
        self.verify_button.setEnabled(True)
        self.fetch_button.setEnabled(True)

    def _checked(self, check: Callable[..., Any]) -> Callable[[], Any]:
        """``check`` with the connection, keys, a store and a client of the worker's own thread."""
        connection = self.connection()
        keys = self._typed_keys(connection)
        paths, privacy = self.session.paths, self.config.settings.privacy

        def call() -> Any:
            store = Store(paths.database)
            try:
                with client_for(connection.location) as client:
                    return check(connection, keys, store, privacy, client)
            finally:
                store.close()

        return call

    def verify(self) -> None:
        try:
            model = self.model.currentText().strip() or None
            call = self._checked(lambda *args: checks.verify(*args, model=model))
        except HearthError as exc:
            self._report(str(exc))
            return
        self._run(call, self._verified)

    def _verified(self, verified: checks.Verified) -> None:
        self._listed(verified.models, keep=verified.model)
        self._report(
            f"Verified: {self.address.text()} answered with {verified.model}. It lists {len(verified.models)} models."
        )

    def fetch_models(self) -> None:
        try:
            call = self._checked(checks.fetch_models)
        except HearthError as exc:
            self._report(str(exc))
            return
        self._run(call, lambda listed: (self._listed(listed), self._report(f"The service lists {len(listed)} models.")))

    def _listed(self, listed: list[ListedModel], keep: str | None = None) -> None:
        chosen = keep or self.model.currentText()
        self.listed = listed
        self.model.clear()
        self.model.addItems([m.id for m in listed])
        if chosen in [m.id for m in listed]:
            self.model.setCurrentText(chosen)
        self._show_price()

    def save_key(self) -> None:
        try:
            connection = self.connection()
            operations.store_keys(connection, [self.key.text()])
        except HearthError as exc:
            self._report(str(exc))
            return
        self.key.clear()
        self._show_keys()
        self._report("The key is stored in your system keychain.")

    def remove_key(self) -> None:
        connection = self._connection_or_none()
        row = self.stored_keys.currentRow()
        if connection is None or connection.key is None or row < 0:
            self._report("Choose a stored key to remove.")
            return
        try:
            key_list.remove_key(connection.key, row)
        except HearthError as exc:
            self._report(str(exc))
        self._show_keys()

    def add(self) -> None:
        try:
            connection = self.connection()
            operations.store_keys(connection, [self.key.text()] if self.key.text().strip() else [])
            added = operations.add_model(self.session.paths, connection, self.model.currentText(), self.listed)
        except HearthError as exc:
            self._report(str(exc))
            return
        self.key.clear()
        self.config = added.config
        self._show_keys()
        self._report(f"Added {added.model_id} to the tier '{added.tier}' ({price_text(added.price)}).")
        self.changed.emit()

    def allow_location(self) -> None:
        try:
            self.config = operations.allow_location(self.session.paths, Location(self.location.currentData()))
        except HearthError as exc:
            self._report(str(exc))
            return
        self._show_policy()
        self._report(f"Your privacy setting is now '{PRIVACY_LABELS[self.config.settings.privacy]}'.")
        self.changed.emit()

    def find_servers(self) -> None:
        self._run(discovery.find_servers, self._found)

    def _found(self, found: list[discovery.FoundServer]) -> None:
        if not found:
            self._report("No model server answers on this computer's usual ports (11434, 1234, 8080, 8000).")
            return
        first = found[0]
        for row in range(self.services.count()):
            if self.services.item(row).data(Qt.ItemDataRole.UserRole) == first.preset:
                self.services.setCurrentRow(row)
        self.show_preset(first.preset, first.base_url, first.models)
        names = "; ".join(f"{s.preset.name} at {s.base_url}" for s in found)
        self._report(f"Found {names}. Pick a model and add it.")

    def reload(self) -> None:
        self.config = load_config(self.session.paths)
        self._show_policy()

    def wait_for_work(self) -> None:
        """Let a Verify or a list on its way finish before the page goes (its answer is dropped)."""
        if self._worker is not None:
            self._worker.abort()
            self._worker.wait(30)


def _bare(preset: Preset) -> Connection:
    return Connection(preset, preset.id, preset.base_url, preset.location, preset.key)
