"""Keeping API conversations in the history: only when the user turned it on (``[server] keep_history``).

A program sends the whole conversation with every request, so a follow-up is recognised by what
it repeats: the request's messages before its last user message (system messages left aside: a
program may resend or change its instructions) are hashed in order, each role with its text, with
the calling program's name (SHA-256). A kept API conversation stores the same hash of its turns as
of its last answer; a request whose hash equals it continues that conversation, and the
conversation then stores the hash that includes the new question and answer. Anything else (a
first request, an earlier turn edited, another program) starts a new conversation, which keeps
the earlier turns it was sent so it reads whole. All of it is the caller's text, stored as it came
and shown inertly like any answer.
"""

from __future__ import annotations

import hashlib
import textwrap
from collections.abc import Sequence

from app.core.answers import Answer
from app.core.providers.base import Message
from app.core.storage.api_conversations import ApiConversations
from app.core.storage.store import Store

TITLE_LENGTH = 60


def described(keeping: bool) -> str:
    """What happens to programs' conversations, for both front ends to say."""
    if keeping:
        return (
            "Programs' conversations are kept in the history, marked \"API\" with the program's name "
            "(to stop, turn it off in Tools → Local API, or set keep_history = false under [server] in models.toml)."
        )
    return (
        "Programs' conversations are not kept; only what is sent to remote models is in the audit "
        "(to keep them, turn it on in Tools → Local API, or set keep_history = true under [server] in models.toml)."
    )


def fingerprint(client: str, turns: Sequence[Message]) -> str:
    digest = hashlib.sha256(client.encode())
    for message in turns:
        for part in (message.role, message.content):
            data = part.encode()
            digest.update(len(data).to_bytes(8, "big") + data)  # lengths first: no two sequences hash alike
    return digest.hexdigest()


def keep(store: Store, client: str, messages: Sequence[Message], answer: Answer) -> int:
    """Store the request's question and ``answer``, continuing the conversation it follows; its id."""
    turns = [message for message in messages if message.role != "system"]
    last = max(index for index, message in enumerate(turns) if message.role == "user")
    earlier, question = turns[:last], turns[last]
    kept = ApiConversations(store)
    following = kept.following(client, fingerprint(client, earlier))
    after = [*earlier, question, Message("assistant", answer.text)]
    first = next(message for message in turns if message.role == "user")
    return kept.keep(
        following,
        client=client,
        title=textwrap.shorten(first.content, TITLE_LENGTH, placeholder="…") or "A program's question",
        earlier=earlier,
        question=question.content,
        answer=answer.text,
        attempts=answer.attempts,
        turns=fingerprint(client, after),
    )
