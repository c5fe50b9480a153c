"""The main window: sidebar, conversation, composer, and the model's state."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import TypeVar

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QLabel, QMainWindow, QProgressBar, QSplitter, QVBoxLayout, QWidget

from app.core import archive
from app.core.cascade import AttemptEnded, AttemptStarted, Finished, TextDelta
from app.core.chat import UserMessageSaved
from app.core.fetch import FetchProgress
from app.core.session import Session
from app.core.store import AttemptRow, MessageRow, Store, shown_attempt
from app.ui.badge import BadgeInfo
from app.ui.chat_view import ChatView, MessageBubble
from app.ui.composer import Composer
from app.ui.conversation_list import ConversationList
from app.ui.worker import GeneratorWorker, run_call, start

CLOSE_WAIT_S = 10.0

Slot = TypeVar("Slot", bound=Callable[..., None])


def _while_open(slot: Slot) -> Slot:
    """Drop a worker's signal that arrives after the window closed (it may already be queued)."""

    @functools.wraps(slot)
    def guarded(self: MainWindow, *args: object) -> None:
        if not self._closed:
            slot(self, *args)

    return guarded  # type: ignore[return-value]


class ProgressRelay(QObject):
    """Fetch progress arrives on a worker thread; this carries it to the UI thread."""

    progressed = Signal(object)

    def report(self, progress: FetchProgress) -> None:
        self.progressed.emit(progress)


class MainWindow(QMainWindow):
    def __init__(self, session: Session, relay: ProgressRelay):
        super().__init__()
        self.session = session
        self.store = Store(session.paths.database)  # the UI thread's own connection
        self.conversation_id: int | None = None
        self._worker: GeneratorWorker | None = None
        self._loader: GeneratorWorker | None = None
        self._upkeep: GeneratorWorker | None = None
        self._answer: MessageBubble | None = None
        self._fresh = False
        self._closed = False

        self.setWindowTitle("Hearth")
        self.resize(1000, 700)
        self.sidebar = ConversationList(self)
        self.chat = ChatView(self)
        self.composer = Composer(self)
        right = QWidget(self)
        column = QVBoxLayout(right)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.chat, 1)
        column.addWidget(self.composer)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.sidebar)
        splitter.addWidget(right)
        splitter.setSizes([240, 760])
        splitter.setChildrenCollapsible(False)
        self.setCentralWidget(splitter)

        self.model_state = QLabel(self)
        self.model_state.setObjectName("modelState")
        self.model_progress = QProgressBar(self)
        self.model_progress.setMaximumWidth(200)
        self.model_progress.hide()
        self.privacy_state = QLabel(f"Privacy: {session.config.settings.privacy.value}", self)
        self.statusBar().addWidget(self.model_state, 1)
        self.statusBar().addPermanentWidget(self.model_progress)
        self.statusBar().addPermanentWidget(self.privacy_state)

        relay.progressed.connect(self._on_fetch_progress)
        self.sidebar.new_requested.connect(self.new_conversation)
        self.sidebar.selected.connect(self.open_conversation)
        self.composer.send_requested.connect(self.send)
        self.composer.stop_requested.connect(self.stop)
        self.refresh_sidebar()
        self.composer.edit.setFocus()

    # Model
    def prepare_model(self) -> None:
        """Fetch and load the local model in the background; the window stays usable."""
        local = self.session.registry.local()
        self.model_state.setText(f"Loading {local.model_id}…")
        self._loader = run_call(local.load)
        self._loader.signals.item.connect(lambda _: self._set_model_ready(local.model_id))
        self._loader.signals.failed.connect(self._on_model_failed)
        self._loader.signals.done.connect(self.model_progress.hide)

    def _set_model_ready(self, model_id: str) -> None:
        self.model_state.setText(f"Ready · {model_id} on this computer")

    def _on_model_failed(self, message: str) -> None:
        self.model_state.setText(f"The local model is not available: {message}")
        self.model_state.setToolTip(message)

    def _on_fetch_progress(self, progress: FetchProgress) -> None:
        self.model_state.setText(progress.message + "…")
        if progress.total:
            self.model_progress.setRange(0, 1000)
            self.model_progress.setValue(int(1000 * progress.done / progress.total))
        else:
            self.model_progress.setRange(0, 0)
        self.model_progress.show()

    def start_upkeep(self) -> None:
        """The daily backup and retention, on a worker thread with its own connection."""
        paths, settings = self.session.paths, self.session.config.settings

        def upkeep() -> None:
            store = Store(paths.database)
            try:
                archive.daily_upkeep(
                    store, paths.database, paths.backups, settings.backups_kept, settings.retention_days
                )
            finally:
                store.close()

        self._upkeep = run_call(upkeep)
        self._upkeep.signals.failed.connect(lambda message: self.statusBar().showMessage(message, 10_000))

    # Conversations
    def refresh_sidebar(self) -> None:
        self.sidebar.show_conversations(self.store.conversations(), self.conversation_id)

    def new_conversation(self) -> None:
        if self._worker is not None:
            return
        self.conversation_id = None
        self.chat.clear()
        self.sidebar.list.clearSelection()
        self.composer.edit.setFocus()

    def open_conversation(self, conversation_id: int) -> None:
        if self._worker is not None:
            return
        self.conversation_id = conversation_id
        self.chat.clear()
        for message in self.store.thread(conversation_id):
            if message.role == "user":
                self.chat.add_message("user", message.content)
            elif message.role == "assistant":
                attempts = self.store.attempts(message.id)
                badge = _badge_from_rows(attempts, message)
                bubble = self.chat.add_answer(message.content, badge)
                self._wire_actions(bubble, message.id)
                if message.status == "incomplete":
                    bubble.show_note("This answer was interrupted before it finished.")
                elif badge is not None and badge.escalated:
                    bubble.show_note(" ".join(a.reason for a in attempts if a.reason))

    # Sending
    def send(self, text: str) -> None:
        if self._worker is not None:
            return
        self.chat.add_message("user", text)
        bubble = self.chat.add_message("assistant", "")
        self._wire_actions(bubble, None)
        conversation_id = self.conversation_id
        self._stream_into(bubble, lambda: self.session.chat.send(conversation_id, text))

    def _stream_into(self, bubble: MessageBubble, make: Callable[[], Iterator[object]]) -> None:
        """Run a core generator on a worker; its events fill ``bubble``."""
        self._answer = bubble
        self._fresh = True  # the bubble's old answer stays until the new one starts
        self.composer.set_busy(True)
        worker = GeneratorWorker(make)
        worker.signals.item.connect(self._on_event)
        worker.signals.failed.connect(self._on_failed)
        worker.signals.done.connect(self._on_done)
        self._worker = start(worker)

    # Answer actions
    def _wire_actions(self, bubble: MessageBubble, message_id: int | None) -> None:
        bubble.message_id = message_id
        bubble.badge.rated.connect(lambda rating: self.rate(bubble, rating))
        bubble.badge.regenerate_requested.connect(lambda: self.again(bubble, self.session.chat.regenerate))
        bubble.badge.stronger_requested.connect(lambda: self.again(bubble, self.session.chat.reask))

    def rate(self, bubble: MessageBubble, rating: int) -> None:
        if bubble.message_id is None:
            return
        self.store.add_feedback(bubble.message_id, rating)
        self.statusBar().showMessage("Thanks: your rating is saved on this computer.", 5_000)

    def again(self, bubble: MessageBubble, ask: Callable[[int], Iterator[object]]) -> None:
        """Regenerate the answer, or ask a stronger model, streaming into the same bubble."""
        if self._worker is not None or bubble.message_id is None:
            return
        message_id = bubble.message_id
        self._stream_into(bubble, lambda: ask(message_id))

    def stop(self) -> None:
        if self._worker is not None:
            self._worker.abort()

    @_while_open
    def _on_event(self, event: object) -> None:
        bubble = self._answer
        assert bubble is not None
        if isinstance(event, UserMessageSaved):
            bubble.message_id = event.answer_id
            if self.conversation_id != event.conversation_id:
                self.conversation_id = event.conversation_id
                self.refresh_sidebar()
        elif isinstance(event, AttemptStarted) and self._fresh:
            self._fresh = False
            bubble.replace("")
            bubble.show_note("")
            bubble.badge.hide()
        elif isinstance(event, AttemptStarted):
            bubble.replace("")
            bubble.show_note(f"Asking {event.tier} ({event.label})…")
        elif isinstance(event, TextDelta):
            bubble.append(event.text)
        elif isinstance(event, AttemptEnded) and event.attempt.error:
            bubble.show_note(event.attempt.error)
        elif isinstance(event, Finished):
            answer = event.answer
            bubble.replace(answer.text)
            failed = [a.error for a in answer.attempts if a.error]
            bubble.show_note(failed[-1] if failed else answer.reason if answer.escalated else "")
            bubble.show_badge(
                BadgeInfo(
                    tier=answer.tier,
                    model=answer.model_id,
                    confidence=answer.confidence,
                    escalated=answer.escalated,
                    reason=answer.reason,
                    latency_ms=answer.latency_ms,
                    tokens=answer.tokens_out,
                    status="complete" if answer.complete else "failed",
                    warning=answer.warning,
                )
            )

    @_while_open
    def _on_failed(self, message: str) -> None:
        if self._answer is not None:
            self._answer.show_note(message)
        self.statusBar().showMessage(message, 10_000)

    @_while_open
    def _on_done(self) -> None:
        bubble = self._answer
        if bubble is not None and bubble.badge.isHidden():
            earlier = bubble.note.text()
            bubble.show_note((earlier + "\n" if earlier else "") + "Stopped; the text so far is kept.")
        self._worker = None
        self._answer = None
        self.composer.set_busy(False)
        self.refresh_sidebar()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt naming)
        for worker in (self._worker, self._loader, self._upkeep):
            if worker is not None:
                worker.abort()
                worker.wait(CLOSE_WAIT_S)
        self._closed = True  # signals already queued by the workers must not reach the closed store
        self.store.close()
        super().closeEvent(event)


def _badge_from_rows(attempts: list[AttemptRow], message: MessageRow) -> BadgeInfo | None:
    final = shown_attempt(attempts, message.content)
    if final is None:
        return None
    return BadgeInfo(
        tier=final.tier,
        model=final.model,
        confidence=final.confidence,
        escalated=final.position > 0,
        reason=final.reason or "",
        latency_ms=final.latency_ms,
        tokens=final.tokens_out,
        status=message.status,
        warning=message.warning,
    )
