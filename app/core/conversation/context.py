"""What a model sees: the system prompt and as many recent turns as fit.

Tokens are counted with the model's own tokenizer (an estimate for remote
models), leaving room for the answer and for the chat template's own tokens.
Only the newest turns that could possibly fit are read from the database:
each costs at least its template tokens, so a window of ``n_ctx`` tokens holds
at most ``n_ctx / 8`` of them, and a conversation of 100,000 messages is
answered as fast as one of a few hundred.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.core.errors import ModelError
from app.core.providers.base import Message, Provider
from app.core.storage.store import Store

# Tokens a chat template adds around each message (role markers, separators).
TEMPLATE_TOKENS_PER_MESSAGE = 8


def build_context(
    system_prompt: str,
    history: Sequence[Message],
    provider: Provider,
    answer_tokens: int,
    summary: str | None = None,
) -> list[Message]:
    """``history`` (the turns the summary does not cover) ends with the user's new message, which must fit."""
    text = f"{system_prompt}\n\nSummary of the conversation so far:\n{summary}" if summary else system_prompt
    system = system_messages(text)
    budget = provider.n_ctx - answer_tokens - sum(_cost(message, provider) for message in system)
    kept: list[Message] = []
    for message in reversed(history):
        cost = _cost(message, provider)
        if cost > budget:
            break
        kept.append(message)
        budget -= cost
    if not kept and history:
        raise ModelError(
            f"Your message is too long for {provider.model_id}'s context window of {provider.n_ctx} tokens. "
            "Shorten it, or choose a model with a larger n_ctx in models.toml."
        )
    kept.reverse()
    return [*system, *kept]


def system_messages(system_prompt: str) -> list[Message]:
    """The system message of ``system_prompt``; none when it is empty, so that the model's chat template
    uses its own default (SmolLM2's names the model and its maker), the prompt the model was tuned with."""
    text = system_prompt.strip()
    return [Message("system", text)] if text else []


def recent_history(
    store: Store, conversation_id: int, through: int | None, longest_context: int
) -> tuple[list[Message], str | None]:
    """The thread up to message ``through`` (default: the branch on show) that the summary does not cover,
    as far back as a window of ``longest_context`` tokens could reach; and the summary."""
    summary = store.summary(conversation_id)
    covers = summary.covers_through if summary else 0
    rows = store.thread(conversation_id, limit=longest_context // TEMPLATE_TOKENS_PER_MESSAGE + 1, through=through)
    history = [Message(row.role, row.content) for row in rows if row.role != "system" and row.id > covers]
    return history, summary.content if summary else None


def _cost(message: Message, provider: Provider) -> int:
    return provider.count_tokens(message.content) + TEMPLATE_TOKENS_PER_MESSAGE
