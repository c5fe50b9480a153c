"""The main window: it lays out the sidebar, the conversation, the composer and the menus, and composes the parts
that run them: the answer being written (``answers``), the local model's state (``model``) and the open
conversation with the sidebar's actions (``conversations``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QMainWindow, QSplitter, QVBoxLayout, QWidget

from app import __version__
from app.core.catalog.entries import refresh_if_due
from app.core.catalog.install import Installed, hub_endpoint
from app.core.documents.setup import EmbeddingSetup
from app.core.session import Session
from app.core.storage import archive
from app.core.storage.store import Store
from app.core.system import updates
from app.ui import inert, theme
from app.ui.about import AboutDialog
from app.ui.answer_stream import AnswerStream
from app.ui.api_panel import ApiPanel, ApiSwitch
from app.ui.catalog_card import CatalogCard, keep_going
from app.ui.chat_view import ChatView
from app.ui.composer import Composer, dropped_files
from app.ui.conversation_actions import ConversationActions
from app.ui.conversation_list import ConversationList
from app.ui.dashboard import Dashboard
from app.ui.documents_panel import DocumentsPanel
from app.ui.model_manager import ModelManager
from app.ui.model_status import ModelStatus
from app.ui.plan_panel import PlanPanel
from app.ui.progress import ProgressRelay
from app.ui.providers_dialog import ProvidersDialog
from app.ui.settings_dialog import SettingsDialog
from app.ui.welcome import PRIVACY_LINES, Welcome, mark_welcomed
from app.ui.window_life import CLOSE_WAIT_S, Lifetime, stop_all, while_open
from app.ui.worker import GeneratorWorker, run_call


class MainWindow(QMainWindow):
    def __init__(self, session: Session, relay: ProgressRelay, reopen: Callable[[], Session]):
        """``reopen`` opens a new session after the configuration changed."""
        super().__init__()
        self.session = session
        self._relay = relay
        self._reopen = reopen
        self.life = Lifetime()
        self.store = Store(session.paths.database)  # the UI thread's own connection
        self._upkeep: GeneratorWorker | None = None
        self.catalog_card: CatalogCard | None = None
        self._update_check: GeneratorWorker | None = None
        self._catalog_refresh: GeneratorWorker | None = None
        self.api = ApiSwitch(lambda: self.session, self)  # Hearth's local API, off until the user turns it on
        self.api.kept.connect(lambda _: self.conversations.refresh_sidebar())

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
        column.addWidget(self.plan_panel)
        column.addWidget(self.composer)
        left = QSplitter(Qt.Orientation.Vertical, self)
        left.addWidget(self.sidebar)
        self.documents = (
            DocumentsPanel(session.library, EmbeddingSetup(session.config, session.paths), self)
            if session.library is not None
            else None
        )
        if self.documents is not None:
            left.addWidget(self.documents)
            left.setSizes([520, 240])
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([260, 840])
        splitter.setChildrenCollapsible(False)
        self.setCentralWidget(splitter)

        self.model = ModelStatus(lambda: self.session, self.life, self, self.statusBar())
        self.privacy_state = inert.plain_label("", self)
        self.statusBar().addPermanentWidget(self.privacy_state)
        self.answers = AnswerStream(self)
        self.conversations = ConversationActions(self)
        self._build_menus()
        self.conversations.show_app_privacy()

        relay.progressed.connect(self.model.on_fetch_progress)
        self.plan_panel.rerun_requested.connect(self.answers.rerun_part)
        self.plan_panel.edit_requested.connect(self.answers.rerun_part)
        self.composer.send_requested.connect(self.answers.send)
        self.composer.stop_requested.connect(self.answers.stop)
        self.chat.action_requested.connect(self.answers.act)
        self.chat.notice.connect(lambda message: self.statusBar().showMessage(message, 8_000))
        if self.documents is not None:
            self.documents.collections_changed.connect(self.composer.documents.set_collections)
            self.composer.documents.set_collections([c.name for c in self.documents.library.collections()])
        self.conversations.refresh_sidebar()
        self.conversations.show_privacy()
        self.composer.edit.setFocus()

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        file.addAction("&New conversation", QKeySequence("Ctrl+N"), self.conversations.new_conversation)
        file.addAction("&Import conversations…", self.conversations.import_conversations)
        file.addSeparator()
        file.addAction("&Quit", QKeySequence("Ctrl+Q"), self.close)
        edit = bar.addMenu("&Edit")
        edit.addAction("&Search conversations", QKeySequence("Ctrl+K"), self.conversations.focus_search)
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

    def show_welcome(self) -> Welcome:
        """The first-run welcome, in the empty conversation, while the model arrives; it goes with the first message."""
        welcome = Welcome(self.session.registry.local().model_id)
        self._relay.progressed.connect(welcome.show_progress)
        self.model.ready_changed.connect(welcome.model_changed)
        if self.model.ready:
            welcome.model_changed(True, self.session.registry.local().model_id)
        self.chat.panel_closed.connect(lambda: mark_welcomed(self.session.paths.data))
        self.catalog_card = CatalogCard(self.session.paths, hub_endpoint())
        welcome.add_card(self.catalog_card)
        self.catalog_card.download.installed.connect(self._on_catalog_model)
        self.chat.panel_closed.connect(lambda: keep_going(self.catalog_card.download, self.statusBar()))
        self.chat.show_panel(welcome)
        self.composer.edit.setFocus()
        return welcome

    @while_open
    def _on_catalog_model(self, installed: Installed) -> None:
        """A catalog model is ready and on the ladder: load the new ladder and say what it is."""
        self.apply_settings()
        self.statusBar().showMessage(" ".join(installed.placement.lines()), 30_000)

    def apply_settings(self) -> None:
        """The configuration changed: open a new session (models reload in the background) and restyle."""
        self.answers.finish()
        self.model.wait()
        old, self.session = self.session, self._reopen()
        self.api.restart()
        old.close()
        appearance = self.session.config.appearance
        app = QApplication.instance()
        theme.apply(app, theme.resolve(appearance.theme), appearance.font_size)  # type: ignore[arg-type]
        self.chat.set_theme(theme.current(app))  # type: ignore[arg-type]
        self.conversations.show_app_privacy()
        self.conversations.refresh_sidebar()
        self.conversations.show_privacy()
        self.model.prepare()
        self.statusBar().showMessage("Settings saved.", 5_000)

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

    @while_open
    def _announce_update(self, status: updates.UpdateStatus | None) -> None:
        if status is not None and status.newer_available:
            self.statusBar().showMessage(f"{status.describe()} Help → About Hearth links to it.")

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
        self.answers.finish()
        self.model.stop()
        stop_all(self._upkeep, self._update_check, self._catalog_refresh)
        self.api.stop()
        self.life.open = False  # signals already queued by the workers must not reach the closed store
        self.store.close()
        super().closeEvent(event)
