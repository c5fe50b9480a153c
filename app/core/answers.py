"""What an answer is made of, and the events that report it as it streams.

Every layer may use these: the cascade and the ensemble produce them, the
recorder and the store keep them, the window and the command line show them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass
class Attempt:
    tier: str
    model_id: str
    location: str
    text: str = ""
    confidence: float | None = None
    signals: dict[str, float | int | str | bool | None] = field(default_factory=dict)
    latency_ms: float = 0.0
    first_token_ms: float | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    finish_reason: str | None = None
    error: str | None = None
    # What happened next, in words: why the cascade stopped here or went on.
    reason: str = ""
    cost: float = 0.0  # USD, from the model's prices in models.toml
    provider: str = ""  # the kind of provider: llama-cpp, openai-compatible, anthropic, gemini
    # The audit trail of what left the machine (remote tiers only).
    destination: str = ""
    policy: str = ""
    payload_sha256: str | None = None
    redacted: dict[str, int] = field(default_factory=dict)
    step: str | None = None  # JSON: the step of a plan this attempt was (app/core/conversation/teamwork/steps.py)
    # How the error may be handled (not stored): worth another try, and when.
    retryable: bool = False
    retry_after: float | None = None
    # The model's final hidden state averaged over the answer (not stored: the probe's reading of it
    # is, in the signals).
    hidden: tuple[float, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Answer:
    text: str
    tier: str
    model_id: str
    confidence: float | None
    escalated: bool
    reason: str
    latency_ms: float
    tokens_in: int
    tokens_out: int
    attempts: Sequence[Attempt]
    complete: bool
    # Set when the answer shown did not reach its tier's confidence threshold.
    warning: str | None = None


@dataclass(frozen=True)
class AttemptStarted:
    index: int
    tier: str
    model_id: str
    label: str


@dataclass(frozen=True)
class TextDelta:
    index: int
    text: str
    logprobs: tuple[float, ...] = ()  # of the tokens of this text, when the model reports them
    alternatives: tuple[tuple[tuple[str, float], ...], ...] = ()  # per token, when asked for (Chunk.alternatives)


@dataclass(frozen=True)
class AttemptEnded:
    index: int
    attempt: Attempt


@dataclass(frozen=True)
class Finished:
    answer: Answer


Event = AttemptStarted | TextDelta | AttemptEnded | Finished


class Tried(Protocol):
    """An attempt, as the cascade reports it or as the store keeps it."""

    @property
    def tier(self) -> str: ...


def escalated(tried: Sequence[Tried], shown: Tried) -> bool:
    """Whether the answer on show was written by another tier than the first one asked: the cascade
    climbed, and a higher tier's answer is the one shown. A retry on the same tier is no climb, and
    neither is a climb whose answers failed, leaving the first tier's answer on show."""
    return bool(tried) and shown.tier != tried[0].tier
