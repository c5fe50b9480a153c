"""A conversation's own privacy: the policy it was given, else the app's (both front ends ask here)."""

from __future__ import annotations

from collections.abc import Callable

from app.core.config.schema import Config, Privacy
from app.core.storage.outbound_records import OutboundRecords
from app.core.storage.store import Store


class ConversationPrivacy:
    def __init__(self, config: Config, store: Callable[[], Store]):
        """``store`` opens a Store for the calling thread."""
        self.config = config
        self._open_store = store

    @staticmethod
    def own(store: Store, conversation_id: int | None) -> Privacy | None:
        """The policy the conversation was given (None: it follows the app's)."""
        if conversation_id is None:
            return None
        own = store.conversation(conversation_id).privacy
        return Privacy(own) if own else None

    def effective(self, store: Store, conversation_id: int | None) -> Privacy:
        """The conversation's own policy if it has one, else the app's."""
        return self.own(store, conversation_id) or self.config.settings.privacy

    def choose(self, conversation_id: int, privacy: Privacy | None) -> None:
        """Give a conversation its own policy (None: follow the app's); destinations it approved "always"
        are forgotten."""
        store = self._open_store()
        try:
            store.set_conversation_privacy(conversation_id, privacy.value if privacy else None)
            OutboundRecords(store).forget_approvals(conversation_id)  # a new choice starts from what it says
        finally:
            store.close()
