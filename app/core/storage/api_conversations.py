"""Conversations asked through Hearth's local API, kept in the history when the user turned that on.

Each is an ordinary conversation (listed, searched, exported like the rest) that also names the
program that asked (``api_client``) and carries the fingerprint of its turns as of its last
answer (``api_turns``), by which a follow-up request finds it (app/core/api/history.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from app.core.answers import Attempt
from app.core.providers.base import Message
from app.core.storage.store import Store


class ApiConversations:
    def __init__(self, store: Store):
        self.store = store

    def following(self, client: str, turns: str) -> int | None:
        """The API conversation of ``client`` whose turns so far have the fingerprint ``turns``."""
        row = self.store.db.execute(
            "SELECT id FROM conversations WHERE api_client = ? AND api_turns = ? ORDER BY updated_at DESC LIMIT 1",
            [client, turns],
        ).fetchone()
        return int(row[0]) if row else None

    def keep(
        self,
        conversation_id: int | None,
        *,
        client: str,
        title: str,
        earlier: Sequence[Message],
        question: str,
        answer: str,
        attempts: list[Attempt],
        turns: str,
    ) -> int:
        """Add the question and its answer to the conversation (a new one, with the ``earlier`` turns it was sent,
        when ``conversation_id`` is None), in one transaction; ``turns``: the fingerprint it has now."""
        store = self.store
        with store.db.atomic():
            if conversation_id is None:
                conversation_id = store.create_conversation(title)
                for message in earlier:
                    store.add_message(conversation_id, message.role, message.content)
            store.add_message(conversation_id, "user", question)
            answer_id = store.add_message(conversation_id, "assistant", answer)
            store.add_attempts(answer_id, attempts)
            store.db["conversations"].update(conversation_id, {"api_client": client, "api_turns": turns})
        return conversation_id
