"""A conversation's own privacy: the policy it was given, else the app's (both front ends ask here).

A conversation whose answers drew on a local-only document collection quotes that collection's text
in its history and summaries, so it stays local-only whatever is chosen for it later: widening it
would send the quoted text along with the next message.
"""

from __future__ import annotations

from collections.abc import Callable

from app.core.config.schema import Config, Privacy
from app.core.documents.library import Library
from app.core.errors import InvalidInput
from app.core.storage.outbound_records import OutboundRecords
from app.core.storage.store import Store


class ConversationPrivacy:
    def __init__(self, config: Config, store: Callable[[], Store], library: Library | None = None):
        """``store`` opens a Store for the calling thread; ``library`` holds the document collections."""
        self.config = config
        self._open_store = store
        self.library = library

    def quoted_local_only(self, store: Store, conversation_id: int | None) -> list[str]:
        """The collections the conversation's answers drew on that are local-only, or removed since (their
        text is still quoted in the answers)."""
        if conversation_id is None or self.library is None:
            return []
        used = store.conversation_collections(conversation_id)
        if not used:
            return []
        shareable = {collection.name for collection in self.library.collections() if not collection.local_only}
        return sorted(used - shareable)

    def own(self, store: Store, conversation_id: int | None) -> Privacy | None:
        """The policy the conversation was given (None: it follows the app's)."""
        if conversation_id is None:
            return None
        if self.quoted_local_only(store, conversation_id):
            return Privacy.LOCAL_ONLY
        own = store.conversation(conversation_id).privacy
        return Privacy(own) if own else None

    def effective(self, store: Store, conversation_id: int | None, asked: Privacy | None = None) -> Privacy:
        """``asked`` (one message's own policy), else the conversation's, else the app's; local-only whatever
        was asked while the conversation quotes a local-only collection."""
        own = self.own(store, conversation_id)
        if own is Privacy.LOCAL_ONLY:
            return own
        return asked or own or self.config.settings.privacy

    def choose(self, conversation_id: int, privacy: Privacy | None) -> None:
        """Give a conversation its own policy (None: follow the app's); destinations it approved "always"
        are forgotten. A conversation quoting a local-only collection cannot be widened."""
        store = self._open_store()
        try:
            quoted = self.quoted_local_only(store, conversation_id)
            if quoted and privacy is not Privacy.LOCAL_ONLY:
                names = ", ".join(f"'{name}'" for name in quoted)
                raise InvalidInput(
                    f"This conversation's answers quote {names}, a local-only document collection (or one removed "
                    "since), so it stays on this computer. Start a new conversation to use other tiers, or turn "
                    "off Local only for the collection in Documents."
                )
            store.set_conversation_privacy(conversation_id, privacy.value if privacy else None)
            OutboundRecords(store).forget_approvals(conversation_id)  # a new choice starts from what it says
        finally:
            store.close()
