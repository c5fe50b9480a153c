"""What a model sees: the system prompt and as many recent turns as fit.

Tokens are counted with the model's own tokenizer (an estimate for remote
models), leaving room for the answer and for the chat template's own tokens.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.core.errors import ModelError
from app.core.providers.base import Message, Provider

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
    system = Message("system", system_prompt)
    if summary:
        system = Message("system", f"{system_prompt}\n\nSummary of the conversation so far:\n{summary}")
    budget = provider.n_ctx - answer_tokens - _cost(system, provider)
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
    return [system, *kept]


def _cost(message: Message, provider: Provider) -> int:
    return provider.count_tokens(message.content) + TEMPLATE_TOKENS_PER_MESSAGE
