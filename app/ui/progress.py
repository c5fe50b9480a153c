"""Model download progress: carried from a worker thread to the UI thread, and shown on a bar."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel, QProgressBar

from app.core.models.fetch import FetchProgress


class ProgressRelay(QObject):
    """Fetch progress arrives on a worker thread; this carries it to the UI thread."""

    progressed = Signal(object)

    def report(self, progress: FetchProgress) -> None:
        self.progressed.emit(progress)


def show_progress(label: QLabel, bar: QProgressBar, progress: FetchProgress, text: str | None = None) -> None:
    """The step on ``label`` (or ``text``), the share done on ``bar``; busy when the size is unknown."""
    label.setText(text or progress.message + "…")
    if progress.total:
        bar.setRange(0, 1000)
        bar.setValue(int(1000 * progress.done / progress.total))
    else:
        bar.setRange(0, 0)
