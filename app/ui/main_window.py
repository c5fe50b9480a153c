"""The main window: sidebar, conversation, composer, menus, and the model's state."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QMainWindow,
    QProgressBar,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app import __version__
from app.core.answers import AttemptEnded, AttemptStarted, Finished, TextDelta
from app.core.catalog.entries import refresh_if_due
from app.core.catalog.install import Installed, hub_endpoint
from app.core.config.schema import Privacy
from app.core.conversation.chat import UserMessageSaved
from app.core.documents.answering import Cited
from app.core.errors import HearthError, NoStrongerModel
from app.core.models.fetch import FetchProgress
from app.core.privacy.gate import ConsentRequest, Decision
from app.core.privacy.policy import PRIVACY_LABELS
from app.core.session import Session
from app.core.storage import archive
from app.core.storage.store import Store
from app.core.system import updates
from app.core.user_files import write_regular
from app.ui import inert, theme
from app.ui.about import AboutDialog
from app.ui.api_panel import ApiPanel, ApiSwitch
from app.ui.catalog_card import CatalogCard, keep_going
from app.ui.chat_view import ChatView, copy_text
from app.ui.compare_dialog import CompareDialog
from app.ui.composer import Composer, Draft, dropped_files
from app.ui.conversation_list import ConversationList
from app.ui.conversation_model import MessageItem
from app.ui.dashboard import Dashboard
from app.ui.documents_panel import DocumentsPanel, open_source
from app.ui.message_actions import MessageAction, Request
from app.ui.model_manager import ModelManager
from app.ui.plan_panel import PlanPanel
from app.ui.progress import ProgressRelay, show_progress
from app.ui.providers_dialog import ProvidersDialog
from app.ui.settings_dialog import SettingsDialog
from app.ui.stronger_offer import offer_stronger_model
from app.ui.welcome import PRIVACY_LINES, Welcome, mark_welcomed
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


class MainWindow(QMainWindow):
    model_ready_changed = Signal(bool, str)  # ready, the model's id or why it failed

    def __init__(self, session: Session, relay: ProgressRelay, reopen: Callable[[], Session]):
        """``reopen`` opens a new session after the configuration changed."""
        super().__init__()
        self.session = session
        self._relay = relay
        self._reopen = reopen
        self.store = Store(session.paths.database)  # the UI thread's own connection
        self.conversation_id: int | None = None
        self.model_ready = False
        self._worker: GeneratorWorker | None = None
        self._loader: GeneratorWorker | None = None
        self._upkeep: GeneratorWorker | None = None
        self.catalog_card: CatalogCard | None = None
        self._update_check: GeneratorWorker | None = None
        self._catalog_refresh: GeneratorWorker | None = None
        self._row: int | None = None  # the answer being written
        self._user_row: int | None = None  # the message it answers, when it was just sent
        self._draft: Draft | None = None  # given back to the composer if the message is refused
        self._failure: str | None = None  # why the request failed after the answer was stored
        self._saved = False  # the message being sent reached the store
        self._fresh = False
        self._closed = False
        self.api = ApiSwitch(lambda: self.session, self)  # Hearth's local API, off until the user turns it on
        self.api.kept.connect(lambda _: self.refresh_sidebar())

        self.setWindowTitle("Hearth")
        self.setAcceptDrops(True)
        self.resize(1100, 760)
        self.sidebar = ConversationList(self)
        self.chat = ChatView(theme.current(QApplication.instance()), self)  # type: ignore[arg-type]
        self.composer = Composer(self)
        right = QWidget(self)
        column = QVBoxLayout(right)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.chat, 1)
        self.plan_panel = PlanPanel(self)
        self.plan_panel.rerun_requested.connect(self.rerun_part)
        column.addWidget(self.plan_panel)
        column.addWidget(self.composer)
        left = QSplitter(Qt.Orientation.Vertical, self)
        left.addWidget(self.sidebar)
        self.documents = DocumentsPanel(session.library, self) if session.library is not None else None
        if self.documents is not None:
            left.addWidget(self.documents)
            left.setSizes([520, 240])
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([260, 840])
        splitter.setChildrenCollapsible(False)
        self.setCentralWidget(splitter)

        self.model_state = inert.plain_label("", self)
        self.model_state.setObjectName("modelState")
        self.model_state.setAccessibleName("Local model state")
        self.model_progress = QProgressBar(self)
        self.model_progress.setMaximumWidth(200)
        self.model_progress.setAccessibleName("Model download progress")
        self.model_progress.hide()
        self.privacy_state = inert.plain_label("", self)
        self.statusBar().addWidget(self.model_state, 1)
        self.statusBar().addPermanentWidget(self.model_progress)
        self.statusBar().addPermanentWidget(self.privacy_state)
        self._build_menus()
        self._show_app_privacy()

        relay.progressed.connect(self._on_fetch_progress)
        self.sidebar.new_requested.connect(self.new_conversation)
        self.sidebar.selected.connect(self.open_conversation)
        self.sidebar.hit_selected.connect(self.open_message)
        self.sidebar.search_changed.connect(self.search)
        self.sidebar.rename_requested.connect(self.rename)
        self.sidebar.pin_requested.connect(self.pin)
        self.sidebar.privacy_requested.connect(self.set_privacy)
        self.sidebar.export_requested.connect(self.export)
        self.sidebar.delete_requested.connect(self.delete)
        self.sidebar.visible_changed.connect(self._on_sidebar_changed)
        self.composer.send_requested.connect(self.send)
        self.composer.stop_requested.connect(self.stop)
        self.composer.privacy_chosen.connect(lambda policy: self.set_privacy(self.conversation_id, policy))
        self.chat.action_requested.connect(self.act)
        self.chat.notice.connect(lambda message: self.statusBar().showMessage(message, 8_000))
        if self.documents is not None:
            self.documents.collections_changed.connect(self.composer.documents.set_collections)
            self.composer.documents.set_collections([c.name for c in self.documents.library.collections()])
        self.refresh_sidebar()
        self._show_conversation_privacy()
        self.composer.edit.setFocus()

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        file.addAction("&New conversation", QKeySequence("Ctrl+N"), self.new_conversation)
        file.addAction("&Import conversations…", self.import_conversations)
        file.addSeparator()
        file.addAction("&Quit", QKeySequence("Ctrl+Q"), self.close)
        edit = bar.addMenu("&Edit")
        edit.addAction("&Search conversations", QKeySequence("Ctrl+K"), self.focus_search)
        edit.addAction("&Message box", QKeySequence("Ctrl+L"), self.composer.edit.setFocus)
        edit.addAction("&Conversation", QKeySequence("Ctrl+Shift+L"), self.chat.setFocus)
        tools = bar.addMenu("&Tools")
        tools.addAction("&Models…", QKeySequence("Ctrl+Shift+M"), self.open_models)
        tools.addAction("&Providers…", self.open_providers)
        tools.addAction("&Dashboard…", QKeySequence("Ctrl+Shift+D"), self.open_dashboard)
        tools.addAction("Local &API…", self.open_api)
        tools.addAction("&Settings…", QKeySequence("Ctrl+,"), self.open_settings)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction("&How Hearth keeps your privacy", self.explain_privacy)
        help_menu.addAction("&About Hearth", self.about)

    # Model
    def prepare_model(self) -> None:
        """Fetch and load the local model in the background; the window stays usable."""
        local = self.session.registry.local()
        self.model_state.setText(f"Loading {local.model_id}…")
        self._loader = run_call(local.load)
        self._loader.signals.item.connect(lambda _: self._set_model_ready(local.model_id))
        self._loader.signals.failed.connect(self._on_model_failed)
        self._loader.signals.done.connect(self.model_progress.hide)

    @_while_open
    def _set_model_ready(self, model_id: str) -> None:
        self.model_ready = True
        self.model_state.setText(f"Ready · {model_id} on this computer")
        self.model_state.setToolTip("\n".join(self.session.registry.local().computes_on()))
        self.model_ready_changed.emit(True, model_id)

    @_while_open
    def _on_model_failed(self, message: str) -> None:
        self.model_state.setText(f"The local model is not available: {message}")
        self.model_state.setToolTip(inert.tooltip(message))
        self.model_ready_changed.emit(False, message)

    def show_welcome(self) -> Welcome:
        """The first-run welcome, in the empty conversation, while the model arrives; it goes with the first message."""
        welcome = Welcome(self.session.registry.local().model_id)
        self._relay.progressed.connect(welcome.show_progress)
        self.model_ready_changed.connect(welcome.model_changed)
        if self.model_ready:
            welcome.model_changed(True, self.session.registry.local().model_id)
        self.chat.panel_closed.connect(lambda: mark_welcomed(self.session.paths.data))
        self.catalog_card = CatalogCard(self.session.paths, hub_endpoint())
        welcome.add_card(self.catalog_card)
        self.catalog_card.download.installed.connect(self._on_catalog_model)
        self.chat.panel_closed.connect(lambda: keep_going(self.catalog_card.download, self.statusBar()))
        self.chat.show_panel(welcome)
        self.composer.edit.setFocus()
        return welcome

    @_while_open
    def _on_catalog_model(self, installed: Installed) -> None:
        """A catalog model is ready and on the ladder: load the new ladder and say what it is."""
        self.apply_settings()
        self.statusBar().showMessage(" ".join(installed.placement.lines()), 30_000)

    def apply_settings(self) -> None:
        """The configuration changed: open a new session (models reload in the background) and restyle."""
        if self._worker is not None:
            self._worker.abort()
            self._worker.wait(CLOSE_WAIT_S)
        if self._loader is not None:
            self._loader.wait(CLOSE_WAIT_S)
        old, self.session = self.session, self._reopen()
        self.api.restart()
        old.close()
        appearance = self.session.config.appearance
        app = QApplication.instance()
        theme.apply(app, theme.resolve(appearance.theme), appearance.font_size)  # type: ignore[arg-type]
        self.chat.set_theme(theme.current(app))  # type: ignore[arg-type]
        self._show_app_privacy()
        self.refresh_sidebar()
        self._show_conversation_privacy()
        self.model_ready = False
        self.prepare_model()
        self.statusBar().showMessage("Settings saved.", 5_000)

    @_while_open
    def _on_fetch_progress(self, progress: FetchProgress) -> None:
        show_progress(self.model_state, self.model_progress, progress)
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
        if self.session.config.updates.check:
            self.check_for_update()
        paths, catalog = self.session.paths, self.session.config.catalog
        self._catalog_refresh = run_call(lambda: refresh_if_due(paths, catalog, __version__))  # off unless turned on
        self._catalog_refresh.signals.failed.connect(lambda message: self.statusBar().showMessage(message, 10_000))

    def check_for_update(self) -> None:
        """The opt-in daily update check (app/core/system/updates.py says what it sends)."""
        url, folder = self.session.config.updates.url, self.session.paths.data
        previous = updates.last_check(folder, __version__)
        if not updates.due(previous, datetime.now(UTC)):
            self._announce_update(previous)
            return

        self._update_check = run_call(lambda: updates.check_and_remember(url, __version__, folder))
        self._update_check.signals.item.connect(self._announce_update)
        self._update_check.signals.failed.connect(lambda message: self.statusBar().showMessage(message, 10_000))

    @_while_open
    def _announce_update(self, status: updates.UpdateStatus | None) -> None:
        if status is not None and status.newer_available:
            self.statusBar().showMessage(f"{status.describe()} Help → About Hearth links to it.")

    # Conversations
    def refresh_sidebar(self) -> None:
        self.sidebar.app_privacy = self.session.config.settings.privacy
        self.search(self.sidebar.search.text().strip())

    def focus_search(self) -> None:
        self.sidebar.search.setFocus()
        self.sidebar.search.selectAll()

    def search(self, query: str) -> None:
        if query:
            self.sidebar.show_hits(self.store.search(query))
        else:
            self.sidebar.show_conversations(self.store.conversations(), self.conversation_id)

    def new_conversation(self) -> None:
        if self._worker is not None:
            return
        self.conversation_id = None
        self.chat.clear()
        self.sidebar.list.clearSelection()
        self.composer.cancel_edit()
        self._show_conversation_privacy()
        self.composer.edit.setFocus()

    def open_conversation(self, conversation_id: int) -> None:
        if self._worker is not None:
            self.statusBar().showMessage("Wait for the answer to finish, or stop it, to switch conversations.", 5_000)
            return
        self.conversation_id = conversation_id
        self.composer.cancel_edit()
        try:
            self.chat.show_conversation(self.store, conversation_id)
        except HearthError as exc:  # stored with values Hearth cannot use: this one shows why, the others open
            self.chat.show_problem(str(exc))
        self._show_conversation_privacy()

    def open_message(self, conversation_id: int, message_id: int) -> None:
        """A search hit: open its conversation on the branch that holds it, and show the message."""
        if self._worker is not None:
            return
        self.open_conversation(conversation_id)
        if not self._select(message_id):  # on another branch: switch to it
            self.store.show_version(message_id)
            self.open_conversation(conversation_id)
            self._select(message_id)

    def _select(self, message_id: int) -> bool:
        """Select and show a message of the branch on show, reading earlier pages as needed."""
        row = self.chat.conversation.load_through(self.store, message_id)
        if row is None:
            return False
        index = self.chat.conversation.index(row)
        self.chat.setCurrentIndex(index)
        self.chat.scrollTo(index)
        return True

    def rename(self, conversation_id: int, title: str) -> None:
        try:
            self.store.rename_conversation(conversation_id, title)
        except HearthError as exc:
            self.statusBar().showMessage(str(exc), 8_000)
        self.refresh_sidebar()

    def pin(self, conversation_id: int, pinned: bool) -> None:
        self.store.set_pinned(conversation_id, pinned)
        self.refresh_sidebar()

    def set_privacy(self, conversation_id: int | None, policy: Privacy | None) -> None:
        if conversation_id is not None:
            self.session.chat.set_privacy(conversation_id, policy)
            self.refresh_sidebar()
        self._show_conversation_privacy(policy if conversation_id is None else None)

    def export(self, conversation_id: int, kind: str) -> None:
        title = self.store.conversation(conversation_id).title
        suffix = ".md" if kind == "markdown" else ".json"
        name, _ = QFileDialog.getSaveFileName(self, "Export conversation", _file_name(title) + suffix)
        if not name:
            return
        try:
            text = archive.as_text(archive.export(self.store, [conversation_id]), markdown=kind == "markdown")
            write_regular(Path(name), text.encode("utf-8"))
        except HearthError as exc:  # its text quotes stored values (and a FileError its path): plain text only
            inert.warn(self, "Export failed", str(exc))
            return
        self.statusBar().showMessage(f"Exported to {name}", 8_000)

    def import_conversations(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Import conversations", "", "Hearth export (*.json)")
        if not name:
            return
        try:
            ids = archive.import_document(self.store, archive.read_document(Path(name)))
        except HearthError as exc:
            inert.warn(self, "Import failed", str(exc))
            return
        self.refresh_sidebar()
        self.statusBar().showMessage(f"Imported {len(ids)} conversation(s).", 8_000)

    def delete(self, conversation_id: int) -> None:
        self.store.delete_conversation(conversation_id)
        self.refresh_sidebar()

    def _on_sidebar_changed(self) -> None:
        pending = self.sidebar.pending_delete()
        if pending is not None and pending == self.conversation_id and self._worker is None:
            self.new_conversation()

    def _show_conversation_privacy(self, own: Privacy | None = None) -> None:
        own = own or self.session.chat.own_privacy(self.store, self.conversation_id)
        self.composer.show_privacy(self.session.config.settings.privacy, own)

    def _show_app_privacy(self) -> None:
        policy = self.session.config.settings.privacy
        self.privacy_state.setText(f"Privacy: {PRIVACY_LABELS[policy]}")
        self.privacy_state.setToolTip("The app's privacy setting; each conversation may have its own (sidebar).")

    # Sending
    def send(self, draft: Draft) -> None:
        if self._worker is not None:
            return
        if draft.replaces is not None:
            edited = self.chat.conversation.row_of(draft.replaces)
            if edited is not None:
                self.chat.conversation.truncate(edited)
        shown = draft.text + (
            f"\n\n*Attached: {', '.join(p.name for p in draft.attachments)}*" if draft.attachments else ""
        )
        user_row = self.chat.add(MessageItem("user", shown))
        row = self.chat.add(MessageItem("assistant", "", streaming=True))
        conversation_id = self.conversation_id
        privacy = self.composer.chosen_privacy() if conversation_id is None else None
        self._draft = draft

        def run() -> Iterator[object]:
            yield from self.session.chat.send(
                conversation_id,
                draft.text,
                privacy=privacy,
                quick=draft.quick,
                attachments=draft.attachments,
                replaces=draft.replaces,
                documents=draft.documents,
                plan=draft.plan,
            )

        self.plan_panel.reset()
        self._user_row = user_row
        self._stream_into(row, run, saved=False)

    def _stream_into(self, row: int, make: Callable[[], Iterator[object]], saved: bool) -> None:
        """Run a core generator on a worker; its events fill the answer at ``row``."""
        self._row = row
        self._saved = saved
        self._fresh = True  # the old answer stays until the new one starts
        self.composer.set_busy(True)
        self.plan_panel.set_running(True)
        worker = GeneratorWorker(make)
        worker.signals.item.connect(self._on_event)
        worker.signals.failed.connect(self._on_failed)
        worker.signals.done.connect(self._on_done)
        self._worker = start(worker)

    # Answer actions
    def act(self, row: int, request: Request) -> None:
        model = self.chat.conversation
        item = model.item(row)
        action = request.action
        if action == MessageAction.COPY:
            copy_text(item.text)
            self.statusBar().showMessage("Copied the message.", 3_000)
        elif action == MessageAction.COPY_CODE:
            blocks = self.chat.code_blocks(row)
            if request.number < len(blocks):
                copy_text(blocks[request.number])
                self.statusBar().showMessage("Copied the code.", 3_000)
        elif action == MessageAction.STOP:
            self.stop()
        elif action == MessageAction.OPEN_SOURCE and request.number < len(item.sources):
            open_source(self, item.sources[request.number])
        elif item.message_id is None or self._worker is not None:
            self.statusBar().showMessage("Wait for the answer to finish first.", 4_000)
        elif action in (MessageAction.RATE_UP, MessageAction.RATE_DOWN):
            self.session.learner.rate(self.store, item.message_id, good=action == MessageAction.RATE_UP)
            self.statusBar().showMessage("Thanks: your rating is saved on this computer.", 5_000)
        elif action == MessageAction.REGENERATE:
            self._again(row, self.session.chat.regenerate)
        elif action == MessageAction.STRONGER:
            self.ask_stronger(row)
        elif action == MessageAction.COMPARE:
            if CompareDialog(self.session, self.store, item.message_id, self).exec():
                assert self.conversation_id is not None
                self.chat.show_conversation(self.store, self.conversation_id)
        elif action == MessageAction.WAKE:
            self.session.chat.wake(list(item.resting))
            self.ask_stronger(row)
        elif action == MessageAction.EDIT:
            self.composer.start_edit(item.message_id, item.text)
        elif action in (MessageAction.PREVIOUS_VERSION, MessageAction.NEXT_VERSION):
            self.switch_version(row, 1 if action == MessageAction.NEXT_VERSION else -1)

    def ask_stronger(self, row: int) -> None:
        """Ask a stronger model, or say why there is none and offer the way to add or allow one."""
        message_id = self.chat.conversation.item(row).message_id
        assert message_id is not None
        try:
            self.session.chat.stronger(message_id)
        except NoStrongerModel as problem:
            tab = offer_stronger_model(self, problem)
            if tab is not None:
                self.open_settings_at(tab)
            return
        self._again(row, self.session.chat.reask)

    def _again(self, row: int, ask: Callable[[int], Iterator[object]]) -> None:
        """Regenerate the answer, or ask a stronger model, streaming into the same row."""
        message_id = self.chat.conversation.item(row).message_id
        assert message_id is not None
        self.chat.conversation.update(row, streaming=True, note="")
        self._user_row = None
        self._stream_into(row, lambda: ask(message_id), saved=True)

    def rerun_part(self, answer_id: int, number: int) -> None:
        """Run one part of a plan answer again; the answer is joined anew in its own row."""
        row = self.chat.conversation.row_of(answer_id)
        if row is None or self._worker is not None:
            return
        self.chat.conversation.update(row, streaming=True, note=f"Running part {number} again…")
        self._user_row = None
        self._stream_into(row, lambda: self.session.chat.modes.rerun_part(answer_id, number), saved=True)

    def switch_version(self, row: int, step: int) -> None:
        message_id = self.chat.conversation.item(row).message_id
        assert message_id is not None and self.conversation_id is not None
        versions = self.store.versions(message_id)
        position = next(i for i, v in enumerate(versions) if v.id == message_id) + step
        if 0 <= position < len(versions):
            self.store.show_version(versions[position].id)
            self.chat.show_conversation(self.store, self.conversation_id)
            self._select(versions[position].id)

    def stop(self) -> None:
        if self._worker is not None:
            self._worker.abort()

    @_while_open
    def _on_event(self, event: object) -> None:
        row, model = self._row, self.chat.conversation
        assert row is not None
        self.plan_panel.take(event)
        if isinstance(event, UserMessageSaved):
            self._saved = True
            if self._user_row is not None:
                model.update(self._user_row, message_id=event.message_id)
            model.update(row, message_id=event.answer_id)
            if self.conversation_id != event.conversation_id:
                self.conversation_id = event.conversation_id
                model.conversation_id = event.conversation_id
                self.refresh_sidebar()
        elif isinstance(event, AttemptStarted):
            self.chat.flush()
            note = "" if self._fresh else f"Asking {event.tier} ({event.label})…"
            self._fresh = False
            model.update(row, text="", note=note, badge=None, streaming=True)
        elif isinstance(event, TextDelta):
            self.chat.append_text(row, event.text)
        elif isinstance(event, AttemptEnded) and event.attempt.error:
            self.chat.flush()
            model.update(row, note=event.attempt.error)
        elif isinstance(event, Finished):
            self.chat.flush()
            model.update(row, text=event.answer.text)
        elif isinstance(event, Cited):
            model.update(row, sources=tuple(event.sources), **({"note": event.note} if event.note else {}))

    @_while_open
    def _on_failed(self, message: str) -> None:
        self.chat.flush()
        if not self._saved and self._draft is not None and self._user_row is not None:
            # Refused before anything was stored: the message goes back to the composer.
            self.chat.conversation.truncate(self._user_row)
            self.composer.restore(self._draft, message)
        elif self._row is not None:
            self._failure = message
            self.chat.conversation.update(self._row, note=message, streaming=False)
        self.statusBar().showMessage(message, 10_000)

    @_while_open
    def _on_done(self) -> None:
        self.chat.flush()
        self.plan_panel.set_running(False)
        row = self._row
        model = self.chat.conversation
        if row is not None and row < model.rowCount() and model.item(row).message_id is not None:
            model.reload_row(self.store, row)  # as it will reopen: badge, cost, versions, note
            message_id = model.item(row).message_id
            assert message_id is not None
            model.update(row, resting=tuple(self.session.chat.resting(message_id)))  # offers "try again"
            if self._failure:  # a failure of the whole request is not in the store
                model.update(row, note=self._failure)
            if self._user_row is not None:  # its text with attachments, and its versions
                model.reload_row(self.store, self._user_row)
        self._worker = None
        self._row = self._user_row = None
        self._draft = self._failure = None
        self.composer.set_busy(False)
        self.refresh_sidebar()
        self._show_conversation_privacy()  # "Never …" in a consent question narrows it
        local = self.session.registry.local()
        note = local.template_note
        if note and note not in self.model_state.toolTip():  # said once, the whole reason kept in the tooltip
            self.model_state.setToolTip(inert.tooltip("\n".join([*local.computes_on(), note])))
            self.statusBar().showMessage(
                f"Using ChatML: {local.model_id}'s own chat template refused this conversation.", 15_000
            )

    # What a consent answer means was decided in the core; the window says it
    def consent_decided(self, decision: Decision, request: ConsentRequest) -> None:
        said = {
            Decision.ALWAYS: f"This conversation now sends to {request.model_id} at {request.host} without asking; "
            "any other destination is still asked about.",
            Decision.NEVER: f"This conversation no longer sends anything to {request.location.value} models.",
        }
        if decision in said:
            self.statusBar().showMessage(said[decision], 10_000)

    # Drag and drop anywhere on the window attaches the files
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt naming)
        if dropped_files(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt naming)
        self.composer.add_files(dropped_files(event.mimeData()))
        event.acceptProposedAction()

    # Dialogs
    def open_settings(self) -> None:
        self.open_settings_at(SettingsDialog.PRIVACY_TAB)

    def open_settings_at(self, tab: int) -> None:
        if SettingsDialog(self.session.paths, self, tab, (self.session.learner, self.store)).exec():
            self.apply_settings()

    def open_models(self) -> None:
        manager = ModelManager(self.session, self)
        manager.exec()
        if manager.config_changed:
            self.apply_settings()

    def open_providers(self) -> None:
        dialog = ProvidersDialog(self.session, self)
        dialog.exec()
        if dialog.config_changed:
            self.apply_settings()

    def open_dashboard(self) -> None:
        Dashboard(self.store, self.session.config, self).exec()

    def explain_privacy(self) -> None:
        inert.inform(self, "How Hearth keeps your privacy", "\n\n".join(PRIVACY_LINES))

    def open_api(self) -> ApiPanel:
        panel = ApiPanel(self.api, self)
        panel.setModal(False)
        panel.show()
        return panel

    def about(self) -> None:
        AboutDialog(self.session.config.updates, self.session.paths.data, self).exec()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt naming)
        self.sidebar.commit_delete()
        if self.catalog_card is not None:
            self.catalog_card.stop()
        if self.documents is not None:
            self.documents.wait(CLOSE_WAIT_S)
        for worker in (self._worker, self._loader, self._upkeep, self._update_check, self._catalog_refresh):
            if worker is not None:
                worker.abort()
                worker.wait(CLOSE_WAIT_S)
        self.api.stop()
        self._closed = True  # signals already queued by the workers must not reach the closed store
        self.store.close()
        super().closeEvent(event)


def _file_name(title: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in " -_" else "_" for ch in title).strip()
    return safe[:60] or "conversation"
