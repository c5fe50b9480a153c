"""Getting one catalog model from the window: progress, pause, resume, cancel, and the ladder it made.

The first-run card and the Catalog tab both show one of these. The work is the core's
``get_model`` (header read and fit check, download with checksum, ladder) on a worker
thread; pausing stops the transfer and keeps the partial file, resuming continues it
with a Range request, cancelling deletes it.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QVBoxLayout, QWidget

from app.core.catalog.choice import Offer
from app.core.catalog.hardware import Hardware
from app.core.catalog.install import Installed, get_model
from app.core.errors import FetchStopped
from app.core.models.fetch import FetchProgress
from app.core.paths import UserPaths
from app.ui import inert
from app.ui.progress import ProgressRelay, show_progress
from app.ui.worker import GeneratorWorker, call_worker, start


class CatalogDownload(QWidget):
    installed = Signal(object)  # Installed: the model is ready and on the ladder
    idle = Signal()  # cancelled, or failed for good: another model may be chosen

    def __init__(self, paths: UserPaths, endpoint: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.paths = paths
        self.endpoint = endpoint
        self._worker: GeneratorWorker | None = None
        self._stop = threading.Event()
        self._cancel = False
        self._job: tuple[Offer, Hardware] | None = None
        self._relay = ProgressRelay(self)
        self._relay.progressed.connect(self._on_progress)
        self.progress = QProgressBar(self)
        self.progress.setAccessibleName("Model download progress")
        self.status = inert.plain_label("", self)
        self.status.setWordWrap(True)
        self.pause_button = QPushButton("Pause", self)
        self.cancel_button = QPushButton("Cancel", self)
        self.pause_button.clicked.connect(self.pause)
        self.cancel_button.clicked.connect(self.cancel)
        buttons = QHBoxLayout()
        buttons.addWidget(self.pause_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.progress)
        column.addWidget(self.status)
        column.addLayout(buttons)
        self.progress.hide()
        self._show_buttons(False)

    @property
    def busy(self) -> bool:
        return self._worker is not None

    @property
    def paused(self) -> bool:
        return self._worker is None and self._job is not None

    def get(self, offer: Offer, hardware: Hardware) -> None:
        """Start (or resume) getting ``offer``'s model."""
        if self._worker is not None:
            return
        self._job = (offer, hardware)
        self._stop.clear()
        self._cancel = False
        paths, endpoint = self.paths, self.endpoint

        def report(progress: FetchProgress) -> None:
            if self._stop.is_set():
                raise FetchStopped("Download paused; the part already downloaded is kept.")
            self._relay.report(progress)

        self._worker = call_worker(
            lambda: get_model(offer.model, offer.quant, paths, hardware, report, endpoint=endpoint)
        )
        self._worker.signals.item.connect(self._on_installed)
        self._worker.signals.failed.connect(self._on_failed)
        self._worker.signals.done.connect(self._on_done)
        self.status.setText(f"Getting {offer.model.name}…")
        self.progress.setRange(0, 0)
        self.progress.show()
        self._show_buttons(True)
        self.pause_button.setText("Pause")
        start(self._worker)

    def pause(self) -> None:
        if self._worker is not None:
            self._stop.set()
        elif self._job is not None:  # paused: resume
            self.get(*self._job)

    def cancel(self) -> None:
        self._cancel = True
        if self._worker is not None:
            self._stop.set()
        else:
            self._discard_partial()

    def _discard_partial(self) -> None:
        if self._job is not None:
            model = self._job[0].model
            for name in [*model.files.values(), model.projector]:
                if name:
                    (self.paths.models / f"{name.rsplit('/', 1)[-1]}.part").unlink(missing_ok=True)
        self._job = None
        self.progress.hide()
        self._show_buttons(False)
        self.status.setText("Download cancelled; the partial file was deleted.")
        self.idle.emit()

    def _on_progress(self, progress: FetchProgress) -> None:
        total = progress.total
        sizes = f"{progress.message}: {progress.done / 1e6:,.0f} of {total / 1e6:,.0f} MB" if total else None
        show_progress(self.status, self.progress, progress, sizes)

    def _on_installed(self, installed: Installed) -> None:
        self._job = None
        done = f"{installed.path.name} is downloaded and checked."
        self.status.setText("\n".join([done, *installed.placement.lines()]))
        self.installed.emit(installed)

    def _on_failed(self, message: str) -> None:
        self.status.setText(message)

    def _on_done(self) -> None:
        paused = self._stop.is_set()
        self._worker = None
        if self._cancel:
            self._discard_partial()
        elif paused and self._job is not None:
            self.pause_button.setText("Resume")
        else:
            self.progress.hide()
            self._show_buttons(False)
            if self._job is not None:  # it failed: a second try resumes
                self.pause_button.setText("Try again")
                self._show_buttons(True)

    def _show_buttons(self, shown: bool) -> None:
        self.pause_button.setVisible(shown)
        self.cancel_button.setVisible(shown)

    def stop(self) -> None:
        """Closing: stop a download (its partial file is kept for next time) and wait for the worker."""
        if self._worker is not None:
            self._stop.set()
            self._worker.wait(10)
