"""The sidebar's Documents section: collections, adding folders (button or drop), indexing in the background.

Indexing runs one collection at a time on the thread pool (the core's generator, one
queued signal per file), so the window never waits on it; Pause holds the worker between
files, Cancel stops it after the file in progress. Every collection is rescanned when the
window opens, so files changed while Hearth was closed are noticed, and while it runs the
collections' folders are watched (app/core/documents/watching.py): a folder that changed is
rescanned once it has been quiet for a moment.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.documents.embedding import Embedder
from app.core.documents.library import IndexProgress, Library
from app.core.documents.setup import EmbeddingSetup
from app.core.documents.sources import Source
from app.core.documents.watching import FolderWatcher
from app.core.errors import HearthError
from app.ui import inert
from app.ui.composer import dropped_files
from app.ui.embedding_offer import EmbeddingOffer
from app.ui.worker import GeneratorWorker, start


class DocumentsPanel(QWidget):
    collections_changed = Signal(list)  # the collection names, after any change
    _changed_on_disk = Signal(str)  # from the watcher's thread: a collection's folder changed

    def __init__(self, library: Library, embedding: EmbeddingSetup, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("documentsPanel")
        self.setAcceptDrops(True)
        self.library = library
        self._queue: list[str] = []
        self._worker: GeneratorWorker | None = None
        self._indexing: str | None = None
        self._interrupted = False  # the run in progress was cancelled or failed: its message stays
        self.watcher = FolderWatcher(self._changed_on_disk.emit)
        self._watched: dict[str, list[Path]] = {}
        self._changed_on_disk.connect(self._rescan_changed)
        column = QVBoxLayout(self)
        column.setContentsMargins(8, 4, 8, 8)
        column.setSpacing(4)

        header = QHBoxLayout()
        header.addWidget(inert.plain_label("Documents", self), 1)
        self.add_button = QToolButton(self)
        self.add_button.setText("+ Folder…")
        self.add_button.setToolTip("Add a folder to a collection; you can also drop folders or files here")
        self.add_button.setAccessibleName("Add a folder of documents")
        header.addWidget(self.add_button)
        column.addLayout(header)

        self.list = QListWidget(self)
        self.list.setAccessibleName("Document collections")
        self.list.setMaximumHeight(120)
        column.addWidget(self.list)

        actions = QHBoxLayout()
        self.local_only = QCheckBox("Local only", self)
        self.local_only.setToolTip("Never send this collection's text to a remote tier, whatever the privacy setting")
        self.rescan_button = QToolButton(self)
        self.rescan_button.setText("Rescan")
        self.rescan_button.setToolTip("Index what changed, moved or was deleted in the collection's folders")
        self.remove_button = QToolButton(self)
        self.remove_button.setText("Remove")
        self.remove_button.setToolTip("Delete the collection's index (your files are not touched)")
        actions.addWidget(self.local_only)
        actions.addStretch(1)
        actions.addWidget(self.rescan_button)
        actions.addWidget(self.remove_button)
        column.addLayout(actions)

        self.progress = QProgressBar(self)
        self.progress.setAccessibleName("Indexing progress")
        self.pause_button = QToolButton(self)
        self.pause_button.setText("Pause")
        self.pause_button.setCheckable(True)
        self.cancel_button = QToolButton(self)
        self.cancel_button.setText("Cancel")
        running = QHBoxLayout()
        running.addWidget(self.progress, 1)
        running.addWidget(self.pause_button)
        running.addWidget(self.cancel_button)
        column.addLayout(running)
        self.status = inert.plain_label("", self)
        self.status.setObjectName("documentsStatus")
        self.status.setWordWrap(True)
        column.addWidget(self.status)
        self.embedding = EmbeddingOffer(embedding, self)
        self.embedding.setVisible(library.embedder is None and embedding.missing() is not None)
        self.embedding.installed.connect(self._use_embedder)
        column.addWidget(self.embedding)

        self.add_button.clicked.connect(self._choose_folder)
        self.rescan_button.clicked.connect(lambda: self._selected() and self.index(self._selected()))
        self.remove_button.clicked.connect(self._remove)
        self.local_only.toggled.connect(self._set_local_only)
        self.list.currentItemChanged.connect(lambda *_: self._show_selected())
        self.pause_button.toggled.connect(self._pause)
        self.cancel_button.clicked.connect(self.cancel)
        self._show_running(False)
        self.refresh()
        for collection in self.library.collections():
            self.index(collection.name)  # rescan on open

    def event(self, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.LayoutRequest, QEvent.Type.Resize):
            self._make_room()
        return super().event(event)

    def _make_room(self) -> None:
        """A splitter gives its panes no height for their width: as the notes wrap onto more lines (a
        narrow sidebar, a large font, a long status), ask for the height they need, so none is cut off."""
        layout = self.layout()
        needed = layout.minimumHeightForWidth(self.width()) if layout.hasHeightForWidth() else 0
        if needed > 0 and needed != self.minimumHeight():
            self.setMinimumHeight(needed)

    # The list
    def refresh(self) -> None:
        current = self._selected()
        self.list.clear()
        collections = self.library.collections()
        for collection in collections:
            where = " · local only" if collection.local_only else ""
            item = QListWidgetItem(f"{collection.name} — {collection.files} files, {collection.chunks} chunks{where}")
            item.setData(256, collection.name)
            item.setData(257, collection.local_only)
            self.list.addItem(item)
            if collection.name == current:
                self.list.setCurrentItem(item)
        if self.list.currentItem() is None and self.list.count():
            self.list.setCurrentRow(0)
        self._show_selected()
        self.collections_changed.emit([collection.name for collection in collections])
        self._watch()

    def _watch(self) -> None:
        """Watch the collections' folders, anew only when they changed (refresh runs after every index)."""
        folders = self.library.folders()
        if folders != self._watched:
            self._watched = folders
            self.watcher.watch(folders)

    def _rescan_changed(self, name: str) -> None:
        """A watched folder changed: rescan it, again after the run in progress if that is this one."""
        if name in self._watched and name not in self._queue:
            self._queue.append(name)
        self._next()

    def _selected(self) -> str:
        item = self.list.currentItem()
        return str(item.data(256)) if item is not None else ""

    def _show_selected(self) -> None:
        item = self.list.currentItem()
        for widget in (self.local_only, self.rescan_button, self.remove_button):
            widget.setEnabled(item is not None)
        self.local_only.blockSignals(True)
        self.local_only.setChecked(bool(item.data(257)) if item is not None else False)
        self.local_only.blockSignals(False)

    # Adding
    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder of documents")
        if folder:
            self.add_paths([Path(folder)])

    def add_paths(self, paths: list[Path], name: str | None = None) -> None:
        """Add ``paths`` to the collection ``name`` (asked, suggesting the selected one or the folder's name)."""
        if name is None:
            suggestion = self._selected() or paths[0].name
            name, ok = QInputDialog.getText(self, "Add to a collection", "Collection:", text=suggestion)
            if not ok or not name.strip():
                return
        try:
            self.library.add(name.strip(), paths)
        except HearthError as exc:
            inert.warn(self, "Cannot add these documents", str(exc))
            return
        self.refresh()
        self.index(name.strip())

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt naming)
        if dropped_files(event.mimeData()) or any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt naming)
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.add_paths(paths)

    # Changing
    def _set_local_only(self, checked: bool) -> None:
        if self._selected():
            self.library.set_local_only(self._selected(), checked)
            self.refresh()

    def _remove(self) -> None:
        name = self._selected()
        if not name or self._indexing == name:
            return
        if inert.confirm(
            self,
            "Remove the collection",
            f"Remove '{name}'?",
            "Its text, vectors and index rows are deleted from Hearth. Your files are not touched.",
        ):
            self._queue = [queued for queued in self._queue if queued != name]
            self.library.remove(name)
            self.refresh()

    # Indexing
    def index(self, name: str) -> None:
        """Index the collection ``name`` now, or after the one in progress."""
        if name != self._indexing and name not in self._queue:
            self._queue.append(name)
        self._next()

    @property
    def busy(self) -> bool:
        return self._worker is not None

    def _next(self) -> None:
        if self._worker is not None or not self._queue:
            return
        name = self._indexing = self._queue.pop(0)
        worker = GeneratorWorker(lambda: self.library.index(name))
        worker.signals.item.connect(self._on_progress)
        worker.signals.failed.connect(self._on_failed)
        worker.signals.done.connect(self._on_done)
        self._interrupted = False
        self._show_running(True)
        self.status.setText(f"Indexing {name}…")
        self._worker = start(worker)

    def _on_progress(self, progress: IndexProgress) -> None:
        self.progress.setMaximum(max(1, progress.total))
        self.progress.setValue(progress.done)
        if progress.path is None:
            self.status.setText(f"{self._indexing}: {progress.note}")
        else:
            note = f" — {progress.note}" if progress.note else ""
            self.status.setText(f"{self._indexing}: {progress.done}/{progress.total} {progress.path.name}{note}")
        if self.pause_button.isChecked():
            self.status.setText(f"{self.status.text()} · paused")

    def _on_failed(self, message: str) -> None:
        self._interrupted = True
        self.status.setText(message)

    def _on_done(self) -> None:
        if self._indexing is not None and not self._interrupted:
            watched = (
                " Changes in its folders are picked up while Hearth runs."
                if self._indexing in self.watcher.watching
                else ""
            )
            self.status.setText(f"{self._indexing}: up to date.{watched}")
        self._worker = None
        self._indexing = None
        self._show_running(False)
        self.pause_button.setChecked(False)
        self.refresh()
        self._next()

    def _pause(self, paused: bool) -> None:
        if self._worker is not None:
            (self._worker.pause if paused else self._worker.resume)()
            self.pause_button.setText("Resume" if paused else "Pause")
            if paused:
                self.status.setText(f"{self._indexing}: paused (Resume goes on where it stopped).")

    def cancel(self) -> None:
        """Stop after the file in progress; what was indexed stays, the next rescan does the rest."""
        self._queue.clear()
        if self._worker is not None:
            self._interrupted = True
            self._worker.abort()
            self.status.setText("Cancelled: what was indexed is kept; Rescan does the rest.")

    def _use_embedder(self, embedder: Embedder) -> None:
        """The embedding model was installed: every collection gets the vectors it lacks."""
        self.library.embedder = embedder
        for collection in self.library.collections():
            self.index(collection.name)

    def wait(self, timeout: float = 30.0) -> None:
        """Let the indexing in progress stop (the window is closing): cancel it and wait for it."""
        self.watcher.stop()
        self.embedding.stop(timeout)
        worker = self._worker
        if worker is not None:
            self.cancel()
            worker.wait(timeout)

    def _show_running(self, running: bool) -> None:
        for widget in (self.progress, self.pause_button, self.cancel_button):
            widget.setVisible(running)


def open_source(parent: QWidget, source: Source) -> None:
    """Open a cited file with the system's viewer, at its page where the viewer can."""
    if not Path(source.path).is_file():
        inert.warn(parent, "The file is gone", f"{source.path} is no longer there. Rescan its collection.")
        return
    QDesktopServices.openUrl(QUrl(source.url()))
