"""The Documents section's offer of the embedding model: why search is by words alone, and "Get it".

The download runs on the thread pool with Hearth's usual fetch (resumed, checked against its
SHA-256); its progress crosses to the window through a queued signal. Once it is installed the
panel computes the vectors of what is already indexed.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QToolButton, QVBoxLayout, QWidget

from app.core.documents.embedding import Embedder
from app.core.documents.setup import EmbeddingSetup
from app.core.errors import FetchStopped
from app.core.models.fetch import FetchProgress
from app.ui import inert
from app.ui.progress import show_progress
from app.ui.worker import GeneratorWorker, run_call


class EmbeddingOffer(QWidget):
    installed = Signal(object)  # the Embedder, once its file is in place
    _progress = Signal(object)  # FetchProgress, from the download's thread

    def __init__(self, setup: EmbeddingSetup, parent: QWidget | None = None):
        super().__init__(parent)
        self.setup = setup
        self._worker: GeneratorWorker | None = None
        self._stopping = False
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.note = inert.plain_label(setup.missing() or "", self)
        self.note.setObjectName("embeddingNote")
        self.note.setWordWrap(True)
        self.get_button = QToolButton(self)
        self.get_button.setText("Get it")
        self.get_button.setToolTip(
            inert.tooltip(f"Download {setup.model_id} to search documents by meaning as well as by words")
        )
        self.get_button.setAccessibleName("Get the embedding model")
        self.get_button.setVisible(setup.fetchable)
        row.addWidget(self.note, 1)
        row.addWidget(self.get_button)
        column.addLayout(row)
        self.bar = QProgressBar(self)
        self.bar.setAccessibleName("Embedding model download progress")
        self.bar.hide()
        column.addWidget(self.bar)
        self.setVisible(setup.missing() is not None)
        self.get_button.clicked.connect(self.fetch)
        self._progress.connect(lambda progress: show_progress(self.note, self.bar, progress))

    def fetch(self) -> None:
        if self._worker is not None:
            return
        self.get_button.setEnabled(False)
        self.bar.show()
        self._worker = run_call(lambda: self.setup.fetch(self._report))
        self._worker.signals.item.connect(self._on_installed)
        self._worker.signals.failed.connect(self._on_failed)
        self._worker.signals.done.connect(self._on_done)

    def _report(self, progress: FetchProgress) -> None:
        if self._stopping:
            raise FetchStopped("The window closed during the download; it goes on from where it stopped next time.")
        self._progress.emit(progress)

    def stop(self, timeout: float) -> None:
        """Stop a download in progress at its next chunk (the window is closing); the .part file stays."""
        self._stopping = True
        if self._worker is not None:
            self._worker.wait(timeout)

    def _on_installed(self, embedder: Embedder) -> None:
        self.hide()
        self.installed.emit(embedder)

    def _on_failed(self, message: str) -> None:
        self.note.setText(f"{self.setup.model_id} could not be downloaded: {message}")
        self.get_button.setText("Try again")
        self.get_button.setEnabled(True)

    def _on_done(self) -> None:
        self._worker = None
        self.bar.hide()
