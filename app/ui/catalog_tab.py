"""Tools → Models → Catalog: this computer's hardware, every catalog model with its fit here, and a Hub search.

The fit shown is estimated from the catalog until the file's header has been read
("Check the fit exactly" reads it, a Range request for its first megabytes); "Get it"
always reads it first. A search of the Hub lists repositories with GGUF files and their
files; a chosen file's fit can be checked the same way, and it is downloaded with the
model manager's own download form.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import httpx
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import __version__
from app.core.catalog.choice import Offer, Survey, survey
from app.core.catalog.facts import fit_of_hub_file, read_facts
from app.core.catalog.hardware import GB
from app.core.catalog.hub_search import HubFile, HubModel, gguf_files, search_hub
from app.core.config import edit as config_edit
from app.core.config.schema import CatalogRefresh, HuggingFaceSource
from app.core.errors import HearthError
from app.core.paths import UserPaths
from app.ui import inert
from app.ui.catalog_download import CatalogDownload
from app.ui.worker import GeneratorWorker, call_worker, start

T = TypeVar("T")
CATALOG_COLUMNS = ["Model", "Quantisation", "Download", "On this computer", "Good at", "Licence"]


def _table(columns: list[str], name: str, parent: QWidget) -> QTableWidget:
    table = QTableWidget(0, len(columns), parent)
    table.setHorizontalHeaderLabels(columns)
    table.setAccessibleName(name)
    table.verticalHeader().hide()
    table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
    table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def _over_http(call: Callable[[httpx.Client], T]) -> Callable[[], T]:
    """``call`` with a client of its own, for a worker thread (a client is not shared across threads)."""

    def run() -> T:
        with httpx.Client(follow_redirects=True, timeout=30) as http:
            return call(http)

    return run


def _fill(table: QTableWidget, rows: list[list[str]]) -> None:
    table.setRowCount(len(rows))
    for row, texts in enumerate(rows):
        for column, text in enumerate(texts):
            item = QTableWidgetItem(text)
            item.setToolTip(inert.tooltip(text))
            table.setItem(row, column, item)
    table.resizeColumnsToContents()


class CatalogTab(QWidget):
    use_hub_file = Signal(str, str)  # repository, file: for the model manager's download form
    config_saved = Signal()  # models.toml changed (the refresh setting)

    def __init__(self, paths: UserPaths, endpoint: str, refresh: CatalogRefresh, parent: QWidget | None = None):
        super().__init__(parent)
        self.paths = paths
        self.endpoint = endpoint
        self.found: Survey | None = None
        self.hub_models: list[HubModel] = []
        self.hub_files: list[HubFile] = []
        self._workers: list[GeneratorWorker] = []
        self.hardware = inert.plain_label("Checking this computer…", self)
        self.hardware.setWordWrap(True)
        self.table = _table(CATALOG_COLUMNS, "Catalog models and their fit on this computer", self)
        self.get_button = QPushButton("Get it", self)
        self.get_button.setObjectName("primaryButton")
        self.check_button = QPushButton("Check the fit exactly", self)
        self.check_button.setToolTip("Reads the start of the file from the Hub (a few megabytes) for its real size")
        self.recommended = inert.plain_label("", self)
        self.recommended.setWordWrap(True)
        self.download = CatalogDownload(paths, endpoint, self)
        host = httpx.URL(refresh.url).host
        self.refresh_box = QCheckBox(
            f"Fetch a newer catalog from {host} once a day (it sends only “User-Agent: Hearth/{__version__}”)", self
        )
        self.refresh_box.setChecked(refresh.refresh)
        self.refresh_box.toggled.connect(self.set_refresh)
        actions = QHBoxLayout()
        for button in (self.get_button, self.check_button):
            actions.addWidget(button)
        actions.addStretch(1)

        hub = QGroupBox("Search the Hugging Face Hub by name", self)
        self.query = QLineEdit(hub)
        self.query.setPlaceholderText("e.g. Qwen2.5 7B Instruct GGUF")
        self.query.setAccessibleName("Search the Hub")
        self.search_button = QPushButton("Search", hub)
        self.results = _table(["Repository", "Downloads"], "Repositories found on the Hub", hub)
        self.files = _table(["File", "Size", "On this computer"], "GGUF files of the chosen repository", hub)
        for listing in (self.results, self.files):
            listing.setMaximumHeight(110)  # the catalog keeps the room
        self.hub_fit_button = QPushButton("Check its fit", hub)
        self.hub_download_button = QPushButton("Download this file…", hub)
        self.hub_status = inert.plain_label("", hub)
        self.hub_status.setWordWrap(True)
        search_row = QHBoxLayout()
        search_row.addWidget(self.query, 1)
        search_row.addWidget(self.search_button)
        lists = QHBoxLayout()
        lists.addWidget(self.results, 1)
        lists.addWidget(self.files, 1)
        file_actions = QHBoxLayout()
        file_actions.addWidget(self.hub_fit_button)
        file_actions.addWidget(self.hub_download_button)
        file_actions.addStretch(1)
        hub_column = QVBoxLayout(hub)
        for part in (search_row, lists, file_actions):
            hub_column.addLayout(part)
        hub_column.addWidget(self.hub_status)

        column = QVBoxLayout(self)
        column.addWidget(self.hardware)
        column.addWidget(self.recommended)
        column.addWidget(self.table, 3)
        column.addLayout(actions)
        column.addWidget(self.download)
        column.addWidget(self.refresh_box)
        column.addWidget(hub)

        self.get_button.clicked.connect(self.get_selected)
        self.check_button.clicked.connect(self.check_selected)
        self.search_button.clicked.connect(self.search)
        self.query.returnPressed.connect(self.search)
        self.results.itemSelectionChanged.connect(self.list_files)
        self.hub_fit_button.clicked.connect(self.check_hub_file)
        self.hub_download_button.clicked.connect(self.download_hub_file)
        self.download.installed.connect(lambda _: self.refresh())
        self.refresh()

    def _run(self, call: Callable[[], Any], done: Callable[[Any], None], status: Callable[[str], None]) -> None:
        worker = call_worker(call)
        worker.signals.item.connect(done)
        worker.signals.failed.connect(status)
        worker.signals.done.connect(lambda: self._workers.remove(worker))
        self._workers.append(worker)
        start(worker)

    # The catalog
    def refresh(self) -> None:
        paths = self.paths
        self._run(lambda: survey(paths), self.show_survey, self.hardware.setText)

    def show_survey(self, found: Survey) -> None:
        self.found = found
        self.hardware.setText("This computer — " + " · ".join(found.hardware.lines()))
        best = found.recommendation.best
        if best is not None:
            others = ", ".join(o.model.name for o in found.recommendation.alternatives)
            self.recommended.setText(
                f"Best for this computer: {best.model.name}" + (f" (or {others})" if others else "")
            )
        rows = []
        for offer in found.offers:
            size = f"{offer.facts.file_size / GB:.1f} GB" + ("" if offer.facts.exact else " (estimated)")
            fit = offer.fit.describe() + (" · downloaded" if offer.downloaded else "")
            rows.append([offer.model.name, offer.quant, size, fit, ", ".join(offer.model.good_at), offer.model.licence])
        _fill(self.table, rows)
        if best is not None and self.table.currentRow() < 0:
            self.table.selectRow(found.offers.index(best))

    def _selected_offer(self) -> Offer | None:
        row = self.table.currentRow()
        return self.found.offers[row] if self.found and 0 <= row < len(self.found.offers) else None

    def get_selected(self) -> None:
        offer = self._selected_offer()
        if offer is not None and self.found is not None:
            self.download.get(offer, self.found.hardware)

    def check_selected(self) -> None:
        offer = self._selected_offer()
        if offer is None:
            return
        paths, endpoint = self.paths, self.endpoint

        read = _over_http(lambda http: read_facts(http, offer.model, offer.quant, paths, endpoint))
        self.download.status.setText(f"Reading the header of {offer.model.files[offer.quant]}…")
        self._run(read, self._header_read, self.download.status.setText)

    def _header_read(self, _facts: object) -> None:
        self.download.status.setText("The fit now uses the file's own header.")
        self.refresh()

    def set_refresh(self, on: bool) -> None:
        text, file = config_edit.current_text(self.paths), self.paths.user_config_file
        try:
            config_edit.save(self.paths, config_edit.with_values(text, file, {"catalog": {"refresh": on}}))
        except HearthError as exc:
            inert.warn(self, "Not changed", str(exc))
            return
        self.config_saved.emit()

    # The Hub
    def search(self) -> None:
        query, endpoint = self.query.text().strip(), self.endpoint
        if not query:
            return
        self.hub_status.setText(f"Searching the Hub for “{query}”…")

        self._run(
            _over_http(lambda http: search_hub(http, query, endpoint)), self.show_results, self.hub_status.setText
        )

    def show_results(self, found: list[HubModel]) -> None:
        self.hub_models = found
        self.hub_status.setText(f"{len(found)} repositories with GGUF files." if found else "Nothing found.")
        _fill(self.results, [[m.id, f"{m.downloads:,}"] for m in found])

    def list_files(self) -> None:
        row = self.results.currentRow()
        if not 0 <= row < len(self.hub_models):
            return
        repo, endpoint = self.hub_models[row].id, self.endpoint

        self._run(_over_http(lambda http: gguf_files(http, repo, endpoint)), self.show_files, self.hub_status.setText)

    def show_files(self, files: list[HubFile]) -> None:
        self.hub_files = files
        _fill(self.files, [[f.path, f"{f.size / GB:.1f} GB", ""] for f in files])

    def _hub_choice(self) -> HuggingFaceSource | None:
        repo_row, file_row = self.results.currentRow(), self.files.currentRow()
        if not (0 <= repo_row < len(self.hub_models) and 0 <= file_row < len(self.hub_files)):
            self.hub_status.setText("Choose a repository and one of its files first.")
            return None
        return HuggingFaceSource(
            kind="huggingface",
            repo=self.hub_models[repo_row].id,
            filename=self.hub_files[file_row].path,
            endpoint=self.endpoint,
        )

    def check_hub_file(self) -> None:
        source = self._hub_choice()
        if source is None or self.found is None:
            return
        hardware, row = self.found.hardware, self.files.currentRow()

        check = _over_http(lambda http: fit_of_hub_file(http, source, hardware).describe())

        def show(text: str) -> None:
            self.files.setItem(row, 2, QTableWidgetItem(text))
            self.hub_status.setText(f"{source.filename}: {text}")

        self._run(check, show, self.hub_status.setText)

    def download_hub_file(self) -> None:
        source = self._hub_choice()
        if source is not None:
            self.use_hub_file.emit(source.repo, source.filename)

    def stop(self) -> None:
        self.download.stop()
        for worker in list(self._workers):
            worker.wait(30)
