"""The model manager: local models with their size and whether they fit, downloads, import and delete.

Downloads run on a worker thread; pausing stops the transfer and keeps the
partial file, resuming continues it with an HTTP Range request, cancelling
deletes it. The checksum is checked before the file is used. Importing a file
copies it on a worker thread too (a model is gigabytes), with its progress;
closing the window stops it and keeps nothing.
"""

from __future__ import annotations

import threading
from pathlib import Path

from pydantic import ValidationError
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.config import edit as config_edit
from app.core.config.load import parse_config
from app.core.config.schema import HuggingFaceSource
from app.core.errors import FetchStopped, HearthError
from app.core.models.fetch import FetchProgress
from app.core.models.files import delete_model_file, download_from_huggingface, import_gguf, memory_hint, model_files
from app.core.session import Session
from app.ui import inert
from app.ui.progress import ProgressRelay, show_progress
from app.ui.worker import GeneratorWorker, call_worker, start


class ModelManager(QDialog):
    def __init__(self, session: Session, parent: QWidget | None = None, endpoint: str = "https://huggingface.co"):
        super().__init__(parent)
        self.session = session
        self.endpoint = endpoint
        self.config_changed = False
        self._download: GeneratorWorker | None = None
        self._import: GeneratorWorker | None = None
        self._stop = threading.Event()
        self._stop_import = threading.Event()
        self._cancel = False
        self._relay = ProgressRelay(self)
        self._relay.progressed.connect(self._on_progress)
        self.setWindowTitle("Models")
        self.setAccessibleName("Models")
        self.resize(900, 560)

        self.table = QTableWidget(0, 4, self)
        self.table.setHorizontalHeaderLabels(["Model", "File", "Size", "Memory"])
        self.table.setAccessibleName("Models on this computer")
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        actions = QHBoxLayout()
        self.import_button = QPushButton("Import GGUF file…", self)
        self.use_button = QPushButton("Answer first with this model", self)
        self.delete_button = QPushButton("Delete file", self)
        for button in (self.import_button, self.use_button, self.delete_button):
            actions.addWidget(button)
        actions.addStretch(1)

        box = QGroupBox("Download from Hugging Face", self)
        form = QFormLayout(box)
        self.repo = QLineEdit(box)
        self.repo.setPlaceholderText("e.g. bartowski/Qwen2.5-0.5B-Instruct-GGUF")
        self.repo.setAccessibleName("Hugging Face repository")
        self.filename = QLineEdit(box)
        self.filename.setPlaceholderText("e.g. Qwen2.5-0.5B-Instruct-Q4_K_M.gguf")
        self.filename.setAccessibleName("File name")
        self.sha256 = QLineEdit(box)
        self.sha256.setPlaceholderText("optional: otherwise the checksum the Hub lists is checked")
        self.sha256.setAccessibleName("SHA-256 checksum")
        self.progress = QProgressBar(box)
        self.progress.setAccessibleName("Download progress")
        self.status = inert.plain_label("", box)
        self.status.setWordWrap(True)
        row = QHBoxLayout()
        self.download_button = QPushButton("Download", box)
        self.download_button.setObjectName("primaryButton")
        self.pause_button = QPushButton("Pause", box)
        self.cancel_button = QPushButton("Cancel", box)
        for button in (self.download_button, self.pause_button, self.cancel_button):
            row.addWidget(button)
        row.addStretch(1)
        form.addRow("Repository:", self.repo)
        form.addRow("File:", self.filename)
        form.addRow("SHA-256:", self.sha256)
        form.addRow(self.progress)
        form.addRow(self.status)
        form.addRow(row)

        close = QPushButton("Close", self)
        close.clicked.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(
            inert.plain_label("Models on this computer. Answers are written by the first model of the first tier.")
        )
        layout.addWidget(self.table, 1)
        layout.addLayout(actions)
        layout.addWidget(box)
        layout.addWidget(close)

        self.import_button.clicked.connect(self.import_file)
        self.use_button.clicked.connect(self.use_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        self.download_button.clicked.connect(self.download)
        self.pause_button.clicked.connect(self.pause)
        self.cancel_button.clicked.connect(self.cancel)
        self._set_downloading(False)
        self.refresh()
        inert.plain_labels(self)

    # The list
    def refresh(self) -> None:
        config = parse_config(config_edit.current_text(self.session.paths), self.session.paths.user_config_file)
        self.files = model_files(config, self.session.paths.models)
        self.table.setRowCount(len(self.files))
        for row, file in enumerate(self.files):
            name = (file.name or "not in any tier") + (" (answers first)" if file.answers_first else "")
            size = f"{file.size / 1e6:,.0f} MB" if file.present else "not downloaded yet"
            fits = memory_hint(file.size) if file.present else ""
            for column, text in enumerate((name, file.path.name, size, fits)):
                item = QTableWidgetItem(text)
                item.setToolTip(inert.tooltip(text))  # a narrow window elides the memory hint
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()

    def _selected(self):  # noqa: ANN202 (a ModelFile or None)
        row = self.table.currentRow()
        return self.files[row] if 0 <= row < len(self.files) else None

    def import_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Import a GGUF model", "", "GGUF models (*.gguf)")
        if name:
            self.import_path(Path(name))

    def import_path(self, source: Path) -> GeneratorWorker:
        """Copy ``source`` into the models folder in the background; the list shows it when done."""
        self._stop_import.clear()
        models = self.session.paths.models

        def report(progress: FetchProgress) -> None:
            if self._stop_import.is_set():
                raise FetchStopped("The import was stopped; nothing was kept.")
            self._relay.report(progress)

        self._import = call_worker(lambda: import_gguf(source, models, report))
        self._import.signals.item.connect(self._on_imported)
        self._import.signals.failed.connect(self._on_import_failed)
        self._import.signals.done.connect(self._on_import_done)
        self.import_button.setEnabled(False)
        self.status.setText(f"Importing {source.name}…")
        return start(self._import)

    def _on_imported(self, target: Path) -> None:
        self.status.setText(f"Imported {target.name}. Choose “Answer first with this model” to use it.")

    def _on_import_failed(self, message: str) -> None:
        if not self._stop_import.is_set():
            self.status.setText("")
            inert.warn(self, "Not imported", message)

    def _on_import_done(self) -> None:
        self._import = None
        self.import_button.setEnabled(True)
        self.progress.reset()
        self.refresh()

    def use_selected(self) -> None:
        file = self._selected()
        if file is None or not file.present:
            return
        name = file.name or file.path.stem.lower()
        text = config_edit.current_text(self.session.paths)
        file_name = self.session.paths.user_config_file
        try:
            if file.name is None:
                model = {"provider": "llama-cpp", "file": file.path.name}
            else:
                model = parse_config(text, file_name).models[name].model_dump(mode="json", exclude_none=True)
            config_edit.save(self.session.paths, config_edit.with_local_model(text, file_name, name, model))
        except HearthError as exc:
            inert.warn(self, "Not changed", str(exc))
            return
        self.config_changed = True
        self.status.setText(f"{name} now answers first. Hearth reloads its models when this window closes.")
        self.refresh()

    def delete_selected(self) -> None:
        file = self._selected()
        if file is None or not file.present:
            return
        warning = (
            " It is the model that answers first: Hearth will fetch it again when needed." if file.answers_first else ""
        )
        if inert.confirm(self, "Delete model file", f"Delete {file.path.name} ({file.size / 1e6:,.0f} MB)?{warning}"):
            try:
                delete_model_file(file.path, self.session.paths.models)
            except HearthError as exc:
                inert.warn(self, "Not deleted", str(exc))
            self.refresh()

    # Downloading
    def download(self) -> None:
        try:
            source = HuggingFaceSource(
                kind="huggingface",
                repo=self.repo.text().strip(),
                filename=self.filename.text().strip(),
                endpoint=self.endpoint,
            )
        except ValidationError as exc:
            reason = exc.errors()[0].get("ctx", {}).get("error")  # a rule of ours, such as a name with '..'
            self.status.setText(f"{reason}." if reason else "Give the repository and the file name.")
            return
        if not source.repo or not source.filename.endswith(".gguf"):
            self.status.setText("Give the repository and a .gguf file name.")
            return
        sha256 = self.sha256.text().strip().lower() or None
        self._stop.clear()
        self._cancel = False
        models = self.session.paths.models

        def report(progress: FetchProgress) -> None:
            if self._stop.is_set():
                raise FetchStopped("Download paused; the part already downloaded is kept.")
            self._relay.report(progress)

        self._download = call_worker(lambda: download_from_huggingface(source, models, report, sha256))
        self._download.signals.item.connect(lambda path: self.status.setText(f"Downloaded and checked {path.name}."))
        self._download.signals.failed.connect(self._on_failed)
        self._download.signals.done.connect(self._on_done)
        self._set_downloading(True)
        self.status.setText(f"Downloading {source.filename}…")
        start(self._download)  # connected first: a download that fails at once still reports it

    def pause(self) -> None:
        if self._download is None:  # paused: resume
            self.download()
        else:
            self._stop.set()

    def cancel(self) -> None:
        self._cancel = True
        if self._download is not None:
            self._stop.set()
        else:
            self._discard_partial()

    def _discard_partial(self) -> None:
        name = self.filename.text().strip()
        if name:
            (self.session.paths.models / (name + ".part")).unlink(missing_ok=True)
        self.progress.reset()
        self.status.setText("Download cancelled; the partial file was deleted.")
        self.pause_button.setText("Pause")
        self.pause_button.setEnabled(False)
        self.cancel_button.setEnabled(False)

    def _on_progress(self, progress: FetchProgress) -> None:
        total = progress.total
        sizes = f"{progress.message}: {progress.done / 1e6:,.1f} of {total / 1e6:,.1f} MB" if total else None
        show_progress(self.status, self.progress, progress, sizes)

    def _on_failed(self, message: str) -> None:
        self.status.setText(message)

    def _on_done(self) -> None:
        paused = self._stop.is_set()
        self._download = None
        self._set_downloading(False)
        if self._cancel:
            self._discard_partial()
        elif paused:
            self.pause_button.setText("Resume")
            self.pause_button.setEnabled(True)
            self.cancel_button.setEnabled(True)
        self.refresh()

    def _set_downloading(self, busy: bool) -> None:
        self.download_button.setEnabled(not busy)
        self.pause_button.setText("Pause")
        self.pause_button.setEnabled(busy)
        self.cancel_button.setEnabled(busy)

    def done(self, result: int) -> None:  # closing stops a download (its partial file is kept) and an import
        if self._download is not None:
            self._stop.set()
            self._download.wait(10)
        if self._import is not None:
            self._stop_import.set()
            self._import.wait(10)
        super().done(result)
