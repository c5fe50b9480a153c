"""Confidence, first version: how sure the model was of its own answer.

The score is a low quantile (the 10th percentile, taken as the probability of
an actual token) of the answer's token probabilities. Sums and means of log-probabilities penalise long answers
and hide the one token the model guessed; a low quantile picks up the
guessed tokens without a length bias (Gupta et al., 2024, "Language Model
Cascades: Token-level uncertainty and beyond"). The other statistics are
kept with every attempt so a calibrated model can use them later.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

SCORE_QUANTILE = 0.10


@dataclass(frozen=True)
class Signals:
    n_tokens: int
    mean_logprob: float
    min_logprob: float
    q05_prob: float
    q10_prob: float
    q25_prob: float
    median_prob: float
    finish_reason: str | None

    def as_dict(self) -> dict[str, float | int | str | None]:
        return asdict(self)


def signals_from(logprobs: Sequence[float], finish_reason: str | None) -> Signals | None:
    """None when there is nothing to judge (the provider gave no log-probabilities)."""
    if not logprobs:
        return None
    values = np.asarray(logprobs, dtype=np.float64)
    probs = np.exp(values)

    def quantile(q: float) -> float:
        # "lower": an actual token's probability, never interpolated upwards
        # past the guessed tokens.
        return float(np.quantile(probs, q, method="lower"))

    return Signals(
        n_tokens=len(values),
        mean_logprob=float(values.mean()),
        min_logprob=float(values.min()),
        q05_prob=quantile(0.05),
        q10_prob=quantile(SCORE_QUANTILE),
        q25_prob=quantile(0.25),
        median_prob=quantile(0.5),
        finish_reason=finish_reason,
    )


def score(signals: Signals | None) -> float | None:
    """One number in [0, 1]; higher means the answer is more likely right."""
    if signals is None:
        return None
    value = signals.q10_prob
    return min(1.0, max(0.0, value if math.isfinite(value) else 0.0))
