"""Rolling summaries: long conversations stay inside a small model's context window.

When the part of a conversation the summary does not cover outgrows its
budget (half the local model's window), the local model folds the oldest of
those turns into the summary, in the background after an answer. The most
recent turns are always left out of it, so the model sees them verbatim.
A summary written by a model off this computer goes through the outgoing gate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from app.core.privacy.gate import Passage
from app.core.providers.base import Message, Provider
from app.core.storage.rows import MessageRow
from app.core.storage.store import Store

KEEP_RECENT = 4  # turns never folded into the summary
SUMMARY_TOKENS = 200
INSTRUCTIONS = (
    "You keep a short running summary of a conversation between a user and an assistant. "
    "Keep names, facts, decisions and open questions; drop small talk. Answer with the summary only."
)


def unsummarised(messages: Sequence[MessageRow], covers_through: int) -> list[MessageRow]:
    return [m for m in messages if m.id > covers_through and m.role != "system" and m.status == "complete"]


def needs_update(rows: Sequence[MessageRow], provider: Provider) -> bool:
    """Whether ``rows`` outgrew half the window; counts only until they do (the tokenizer shares the model)."""
    if len(rows) <= KEEP_RECENT:
        return False
    tokens = 0
    for row in reversed(rows):
        tokens += provider.count_tokens(row.content)
        if tokens > provider.n_ctx // 2:
            return True
    return False


def fold(provider: Provider, current: str, rows: Sequence[MessageRow]) -> tuple[str, int]:
    """Fold as many of ``rows`` (oldest first, all but the recent ones) as fit; returns (summary, covers_through)."""
    foldable = list(rows[:-KEEP_RECENT])
    budget = provider.n_ctx - SUMMARY_TOKENS - provider.count_tokens(INSTRUCTIONS + current) - 64
    taken: list[MessageRow] = []
    for row in foldable:
        cost = provider.count_tokens(row.content) + 8
        if cost > budget:
            break
        taken.append(row)
        budget -= cost
    if not taken:
        return current, rows[0].id - 1
    lines = "\n".join(f"[{row.role}] {row.content}" for row in taken)
    prompt = f"Current summary:\n{current or '(none yet)'}\n\nNew messages:\n{lines}\n\nWrite the updated summary."
    stream = provider.stream([Message("system", INSTRUCTIONS), Message("user", prompt)], max_tokens=SUMMARY_TOKENS)
    try:
        text = "".join(chunk.text for chunk in stream).strip()
    finally:
        stream.close()
    return text or current, taken[-1].id


def summary_job(
    provider: Provider,
    conversation_id: int,
    open_store: Callable[[], Store],
    passage_for: Callable[[Store], Passage],
) -> Callable[[], None]:
    """The summary's update, written by ``provider`` through its own passage out (one that never asks)."""

    def run() -> None:
        store = open_store()
        try:
            writer = passage_for(store).through(provider, "summary")
            existing = store.summary(conversation_id)
            covers = existing.covers_through if existing else 0
            rows = unsummarised(store.thread(conversation_id), covers)
            if not needs_update(rows, writer):
                return
            text, through = fold(writer, existing.content if existing else "", rows)
            if through > covers:
                store.save_summary(conversation_id, text, through, edited=bool(existing and existing.edited))
        finally:
            store.close()

    return run


def set_summary(store: Store, conversation_id: int, text: str) -> None:
    """The user's own version of the summary; later updates build on it."""
    current = store.summary(conversation_id)
    last = store.thread(conversation_id)
    covers = current.covers_through if current else (last[-1].id if last else 0)
    store.save_summary(conversation_id, text.strip(), covers, edited=True)
