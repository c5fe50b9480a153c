"""The provider interface: messages in, a stream of chunks out.

Local and remote models yield the same ``Chunk``. The last chunk carries the
finish reason and token usage. A caller may stop iterating at any time and
must then close the generator; providers release what they hold in
``finally`` blocks.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from app.core.config.schema import Location

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class Message:
    role: Role
    content: str
    # Attached images as data URLs ("data:image/png;base64,..."), for tiers that accept them.
    images: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sampling:
    """Per-request overrides of a model's configured sampling (ensembles draw several samples),
    and whether to read the final hidden state too (averaged over the answer, one more model step:
    only worth it where a calibration's probe reads it)."""

    temperature: float | None = None
    seed: int | None = None
    repeat_penalty: float | None = None
    hidden_state: bool = False
    stop: tuple[str, ...] = ()  # the answer ends before any of these strings
    top_logprobs: int = 0  # how many of the likeliest tokens to report at each step, with their logprobs


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class Chunk:
    text: str
    # Natural-log probability of each generated token in this chunk, when known.
    logprobs: tuple[float, ...] = ()
    # Entropy (nats) of the distribution each token was drawn from: the full
    # vocabulary for local models, the reported top-k alternatives for remote ones.
    entropies: tuple[float, ...] = ()
    # Log-probability margin of the most likely token over the second, per token (local models).
    margins: tuple[float, ...] = ()
    # The text of each generated token, as the model produced it (before stop strings are held back).
    tokens: tuple[str, ...] = ()
    # The likeliest tokens at each step (text, logprob), best first, when asked for (``Sampling.top_logprobs``)
    # and the model reports them.
    alternatives: tuple[tuple[tuple[str, float], ...], ...] = ()
    # The model's final hidden state averaged over the answer's tokens (local models; on the last chunk).
    hidden: tuple[float, ...] = ()
    # Log-probability of the end-of-answer token, where the model ended the answer with it (local models;
    # on the last chunk). How sure the model was that the answer is complete.
    end_logprob: float | None = None
    finish_reason: str | None = None
    usage: Usage | None = None


class ClearanceCheck(Protocol):
    """What a provider whose requests leave this computer asks of the leave it is handed: whether it
    covers exactly this provider and these messages. Only the outgoing gate issues one
    (``Clearance`` in app/core/privacy/gate.py)."""

    def admits(self, provider: object, messages: Sequence[Message]) -> bool: ...


class Provider(Protocol):
    model_id: str
    location: Location
    n_ctx: int

    @property
    def label(self) -> str:
        """What the user sees: the model and where it runs."""
        ...

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int, sampling: Sampling | None = None
    ) -> Iterator[Chunk]: ...

    def count_tokens(self, text: str) -> int: ...

    def close(self) -> None: ...
