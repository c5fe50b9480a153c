"""The last event of a turn: the answer and its question as stored, read on the worker's thread.

A front end draws a finished answer from its stored rows (badge, cost, versions, the note on
why it escalated, its sources); this event carries them, so the window does not read again,
on its own thread, what the turn just wrote — a large answer is read once, off the UI thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from app.core.conversation.chat import UserMessageSaved
from app.core.conversation.rests import Rests
from app.core.storage.rows import AttemptRow, MessageRow
from app.core.storage.store import Store


@dataclass(frozen=True)
class StoredMessage:
    message: MessageRow
    versions: list[MessageRow]
    attempts: list[AttemptRow]  # empty for a question


@dataclass(frozen=True)
class TurnSaved:
    answer: StoredMessage
    question: StoredMessage | None
    resting: dict[str, float]  # models this answer tried that rest now, and for how many seconds more


def stored_message(store: Store, message_id: int) -> StoredMessage:
    message = store.message(message_id)
    attempts = store.attempts(message_id) if message.role == "assistant" else []
    return StoredMessage(message, store.versions(message_id), attempts)


def ending_saved(
    events: Iterator[object], open_store: Callable[[], Store], rests: Rests, answer_id: int | None = None
) -> Iterator[object]:
    """``events``, then (when they ran to their end) the answer they wrote as a ``TurnSaved``.

    ``answer_id``: the answer a re-ask or a part's re-run writes into; a new answer or version
    names itself on the way (``UserMessageSaved``)."""
    question_id: int | None = None
    for event in events:
        if isinstance(event, UserMessageSaved):
            answer_id, question_id = event.answer_id, event.message_id
        yield event
    if answer_id is None:
        return
    store = open_store()
    try:
        answer = stored_message(store, answer_id)
        question = stored_message(store, question_id) if question_id is not None else None
    finally:
        store.close()
    yield TurnSaved(answer, question, rests.resting(answer_id))
