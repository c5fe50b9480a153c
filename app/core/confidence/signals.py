"""Confidence: how likely an answer is to be right, from signals the answer carries.

Signals are the answer's token probabilities (a low quantile, the minimum and
mean log-probability, the mean entropy of the distributions its tokens were
drawn from) and cheap checks of its text (hedging, refusal, cut off by the
length limit, a repetition loop, empty, another language than the question).

Without calibration the score is the 10th percentile of the token
probabilities (taken as the probability of an actual token), discounted by
the text checks. A low quantile avoids the length bias of sums and means and
is not averaged away by many easy tokens (Gupta et al., 2024, "Language Model
Cascades: Token-level uncertainty and beyond"). ``app.core.confidence.calibration``
turns the same signals into a fitted probability per model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from app.core.confidence import answer_checks

SCORE_QUANTILE = 0.10
# Uncalibrated discounts, applied when a text check fires.
DEFAULT_DISCOUNTS = {
    "hedge": 0.7,
    "refusal": 0.5,
    "truncated": 0.7,
    "looping": 0.5,
    "language_mismatch": 0.5,
}
LOOPING = 0.3  # share of repeated word 4-grams from which an answer counts as looping


@dataclass(frozen=True)
class Signals:
    n_tokens: int
    mean_logprob: float | None
    min_logprob: float | None
    q05_prob: float | None
    q10_prob: float | None
    q25_prob: float | None
    median_prob: float | None
    mean_entropy: float | None
    hedge: bool
    refusal: bool
    truncated: bool
    repetition: float
    empty: bool
    language_mismatch: bool
    finish_reason: str | None

    @property
    def has_token_probabilities(self) -> bool:
        return self.q10_prob is not None

    def as_dict(self) -> dict[str, float | int | str | bool | None]:
        return asdict(self)


def signals_from(
    question: str,
    answer: str,
    logprobs: Sequence[float],
    entropies: Sequence[float],
    finish_reason: str | None,
) -> Signals:
    probs = np.exp(np.asarray(logprobs, dtype=np.float64))

    def quantile(q: float) -> float | None:
        # "lower": an actual token's probability, never interpolated upwards
        # past the guessed tokens.
        return float(np.quantile(probs, q, method="lower")) if len(probs) else None

    checked = answer_checks.sample(answer)
    return Signals(
        n_tokens=len(logprobs),
        mean_logprob=float(np.mean(logprobs)) if len(logprobs) else None,
        min_logprob=float(np.min(logprobs)) if len(logprobs) else None,
        q05_prob=quantile(0.05),
        q10_prob=quantile(SCORE_QUANTILE),
        q25_prob=quantile(0.25),
        median_prob=quantile(0.5),
        mean_entropy=float(np.mean(entropies)) if len(entropies) else None,
        hedge=answer_checks.hedges(checked),
        refusal=answer_checks.refuses(checked),
        truncated=finish_reason == "length",
        repetition=answer_checks.repetition(checked),
        empty=answer_checks.is_empty(checked),
        language_mismatch=answer_checks.language_mismatch(question, checked),
        finish_reason=finish_reason,
    )


def default_score(signals: Signals) -> float | None:
    """The documented uncalibrated score in [0, 1]; None without token probabilities."""
    if signals.q10_prob is None:
        return None
    if signals.empty:
        return 0.0
    value = signals.q10_prob
    fired = {
        "hedge": signals.hedge,
        "refusal": signals.refusal,
        "truncated": signals.truncated,
        "looping": signals.repetition >= LOOPING,
        "language_mismatch": signals.language_mismatch,
    }
    for check, on in fired.items():
        if on:
            value *= DEFAULT_DISCOUNTS[check]
    return min(1.0, max(0.0, value))
