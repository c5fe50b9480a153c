"""The open conversation and what the sidebar does to conversations: new, open, rename, pin, privacy, export, delete."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog

from app.core.config.schema import Privacy
from app.core.errors import HearthError
from app.core.privacy.policy import PRIVACY_LABELS
from app.core.storage import archive
from app.core.user_files import write_regular
from app.ui import inert
from app.ui.conversation_list import ExportFormat

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow


class ConversationActions(QObject):
    """Which conversation is open, and the sidebar's requests, each said back in the sidebar and the composer."""

    def __init__(self, window: MainWindow):
        super().__init__(window)
        self._window = window
        self.conversation_id: int | None = None
        sidebar = window.sidebar
        sidebar.new_requested.connect(self.new_conversation)
        sidebar.selected.connect(self.open_conversation)
        sidebar.hit_selected.connect(self.open_message)
        sidebar.search_changed.connect(self.search)
        sidebar.rename_requested.connect(self.rename)
        sidebar.pin_requested.connect(self.pin)
        sidebar.privacy_requested.connect(self.set_privacy)
        sidebar.export_requested.connect(self.export)
        sidebar.delete_requested.connect(self.delete)
        sidebar.visible_changed.connect(self._on_sidebar_changed)
        window.composer.privacy_chosen.connect(lambda policy: self.set_privacy(self.conversation_id, policy))

    def _say(self, message: str, timeout_ms: int) -> None:
        self._window.statusBar().showMessage(message, timeout_ms)

    def refresh_sidebar(self) -> None:
        sidebar = self._window.sidebar
        sidebar.app_privacy = self._window.session.config.settings.privacy
        self.search(sidebar.search.text().strip())

    def focus_search(self) -> None:
        self._window.sidebar.search.setFocus()
        self._window.sidebar.search.selectAll()

    def search(self, query: str) -> None:
        sidebar, store = self._window.sidebar, self._window.store
        if query:
            sidebar.show_hits(store.search(query))
        else:
            sidebar.show_conversations(store.conversations(), self.conversation_id)

    def new_conversation(self) -> None:
        window = self._window
        if window.answers.busy:
            return
        self.conversation_id = None
        window.chat.clear()
        window.sidebar.list.clearSelection()
        window.composer.cancel_edit()
        self.show_privacy()
        window.composer.edit.setFocus()

    def open_conversation(self, conversation_id: int) -> None:
        window = self._window
        if window.answers.busy:
            self._say("Wait for the answer to finish, or stop it, to switch conversations.", 5_000)
            return
        self.conversation_id = conversation_id
        window.composer.cancel_edit()
        try:
            window.chat.show_conversation(window.store, conversation_id)
        except HearthError as exc:  # stored with values Hearth cannot use: this one shows why, the others open
            window.chat.show_problem(str(exc))
        self.show_privacy()

    def started(self, conversation_id: int) -> None:
        """The message just sent is stored, in a conversation it may have started."""
        if self.conversation_id != conversation_id:
            self.conversation_id = conversation_id
            self._window.chat.conversation.conversation_id = conversation_id
            self.refresh_sidebar()

    def show_again(self) -> None:
        """Show the open conversation as stored (another answer was chosen)."""
        assert self.conversation_id is not None
        self._window.chat.show_conversation(self._window.store, self.conversation_id)

    def open_message(self, conversation_id: int, message_id: int) -> None:
        """A search hit: open its conversation on the branch that holds it, and show the message."""
        if self._window.answers.busy:
            return
        self.open_conversation(conversation_id)
        if not self._select(message_id):  # on another branch: switch to it
            self._window.store.show_version(message_id)
            self.open_conversation(conversation_id)
            self._select(message_id)

    def switch_version(self, message_id: int, step: int) -> None:
        """Show the message's previous (-1) or next (+1) version, and the branch that follows it."""
        store = self._window.store
        versions = store.versions(message_id)
        position = next(i for i, v in enumerate(versions) if v.id == message_id) + step
        if 0 <= position < len(versions):
            store.show_version(versions[position].id)
            self.show_again()
            self._select(versions[position].id)

    def _select(self, message_id: int) -> bool:
        """Select and show a message of the branch on show, reading earlier pages as needed."""
        chat = self._window.chat
        row = chat.conversation.load_through(self._window.store, message_id)
        if row is None:
            return False
        index = chat.conversation.index(row)
        chat.setCurrentIndex(index)
        chat.scrollTo(index)
        return True

    def rename(self, conversation_id: int, title: str) -> None:
        try:
            self._window.store.rename_conversation(conversation_id, title)
        except HearthError as exc:
            self._say(str(exc), 8_000)
        self.refresh_sidebar()

    def pin(self, conversation_id: int, pinned: bool) -> None:
        self._window.store.set_pinned(conversation_id, pinned)
        self.refresh_sidebar()

    def set_privacy(self, conversation_id: int | None, policy: Privacy | None) -> None:
        if conversation_id is not None:
            try:
                self._window.session.chat.privacy.choose(conversation_id, policy)
            except HearthError as exc:
                inert.warn(self._window, "Privacy kept", str(exc))
            self.refresh_sidebar()
        self.show_privacy(policy if conversation_id is None else None)

    def export(self, conversation_id: int, kind: ExportFormat) -> None:
        window = self._window
        title = window.store.conversation(conversation_id).title
        name, _ = QFileDialog.getSaveFileName(window, "Export conversation", _file_name(title) + kind.value)
        if not name:
            return
        try:
            document = archive.export(window.store, [conversation_id])
            text = archive.as_text(document, markdown=kind is ExportFormat.MARKDOWN)
            write_regular(Path(name), text.encode("utf-8"))
        except HearthError as exc:  # its text quotes stored values (and a FileError its path): plain text only
            inert.warn(window, "Export failed", str(exc))
            return
        self._say(f"Exported to {name}", 8_000)

    def import_conversations(self) -> None:
        window = self._window
        name, _ = QFileDialog.getOpenFileName(window, "Import conversations", "", "Hearth export (*.json)")
        if not name:
            return
        try:
            document = archive.read_document(Path(name))
            ids = archive.import_document(window.store, document, window.session.config.settings.privacy)
        except HearthError as exc:
            inert.warn(window, "Import failed", str(exc))
            return
        self.refresh_sidebar()
        self._say(f"Imported {len(ids)} conversation(s).", 8_000)

    def delete(self, conversation_id: int) -> None:
        self._window.store.delete_conversation(conversation_id)
        self.refresh_sidebar()

    def _on_sidebar_changed(self) -> None:
        pending = self._window.sidebar.pending_delete()
        if pending is not None and pending == self.conversation_id and not self._window.answers.busy:
            self.new_conversation()

    def show_privacy(self, own: Privacy | None = None) -> None:
        """The composer's privacy line: the open conversation's own policy, else the app's."""
        window = self._window
        own = own or window.session.chat.privacy.own(window.store, self.conversation_id)
        window.composer.show_privacy(window.session.config.settings.privacy, own)

    def show_app_privacy(self) -> None:
        window = self._window
        policy = window.session.config.settings.privacy
        window.privacy_state.setText(f"Privacy: {PRIVACY_LABELS[policy]}")
        window.privacy_state.setToolTip("The app's privacy setting; each conversation may have its own (sidebar).")


def _file_name(title: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in " -_" else "_" for ch in title).strip()
    return safe[:60] or "conversation"
