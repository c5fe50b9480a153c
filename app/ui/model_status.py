"""The local model's state in the status bar: loading, download progress, ready or why not."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QProgressBar, QStatusBar, QWidget

from app.core.models.fetch import FetchProgress
from app.core.session import Session
from app.ui import inert
from app.ui.progress import show_progress
from app.ui.window_life import CLOSE_WAIT_S, Lifetime, stop_all, while_open
from app.ui.worker import GeneratorWorker, run_call


class ModelStatus(QObject):
    """Loads the session's local model in the background and says how it stands; the window stays usable."""

    ready_changed = Signal(bool, str)  # ready, the model's id or why it failed

    def __init__(self, session: Callable[[], Session], life: Lifetime, parent: QWidget, bar: QStatusBar):
        super().__init__(parent)
        self._session = session
        self.life = life
        self._bar = bar
        self.ready = False
        self._loader: GeneratorWorker | None = None
        self.state = inert.plain_label("", parent)
        self.state.setObjectName("modelState")
        self.state.setAccessibleName("Local model state")
        self.progress = QProgressBar(parent)
        self.progress.setMaximumWidth(200)
        self.progress.setAccessibleName("Model download progress")
        self.progress.hide()
        bar.addWidget(self.state, 1)
        bar.addPermanentWidget(self.progress)

    def prepare(self) -> None:
        """Fetch and load the local model in the background."""
        self.ready = False
        local = self._session().registry.local()
        self.state.setText(f"Loading {local.model_id}…")
        self._loader = run_call(local.load)
        self._loader.signals.item.connect(lambda _: self._set_ready(local.model_id))
        self._loader.signals.failed.connect(self._on_failed)
        self._loader.signals.done.connect(self.progress.hide)

    def wait(self) -> None:
        """Let a load under way finish (before the session it belongs to closes)."""
        if self._loader is not None:
            self._loader.wait(CLOSE_WAIT_S)

    def stop(self) -> None:
        stop_all(self._loader)

    @while_open
    def _set_ready(self, model_id: str) -> None:
        self.ready = True
        self.state.setText(f"Ready · {model_id} on this computer")
        self.state.setToolTip("\n".join(self._session().registry.local().computes_on()))
        self.ready_changed.emit(True, model_id)

    @while_open
    def _on_failed(self, message: str) -> None:
        self.state.setText(f"The local model is not available: {message}")
        self.state.setToolTip(inert.tooltip(message))
        self.ready_changed.emit(False, message)

    @while_open
    def on_fetch_progress(self, progress: FetchProgress) -> None:
        show_progress(self.state, self.progress, progress)
        self.progress.show()

    def note_template(self) -> None:
        """Say once that the model's own chat template refused a conversation; the tooltip keeps the reason."""
        local = self._session().registry.local()
        note = local.template_note
        if note and note not in self.state.toolTip():
            self.state.setToolTip(inert.tooltip("\n".join([*local.computes_on(), note])))
            self._bar.showMessage(
                f"Using ChatML: {local.model_id}'s own chat template refused this conversation.", 15_000
            )
