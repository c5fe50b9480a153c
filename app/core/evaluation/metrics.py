"""How good a confidence score is at telling right answers from wrong ones.

- AUROC: the chance that a random right answer scores above a random wrong one.
- Expected calibration error: the gap between stated confidence and accuracy, over bins.
- Deferral curve: overall accuracy when the least confident answers (a growing
  share) go to the stronger tier instead (Gupta et al., 2024).
- CPT(x): the share of escalations needed to recover x of the accuracy gap
  between the local and the stronger tier (RouteLLM's "call-performance threshold").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def auroc(scores: Sequence[float], correct: Sequence[bool]) -> float | None:
    """Mann-Whitney estimate with ties counted half; None when one class is missing."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(correct, dtype=bool)
    positives, negatives = int(y.sum()), int((~y).sum())
    if positives == 0 or negatives == 0:
        return None
    order = s.argsort(kind="mergesort")
    ranks = np.empty(len(s))
    sorted_scores = s[order]
    i = 0
    while i < len(s):  # average ranks over ties
        j = i
        while j + 1 < len(s) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[y].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def expected_calibration_error(scores: Sequence[float], correct: Sequence[bool], bins: int = 10) -> float:
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(correct, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(s, edges[1:-1]), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            error += members.mean() * abs(s[members].mean() - y[members].mean())
    return float(error)


def reliability(scores: Sequence[float], correct: Sequence[bool], bins: int = 10) -> list[dict[str, float]]:
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(correct, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(s, edges[1:-1]), 0, bins - 1)
    return [
        {
            "low": float(edges[b]),
            "high": float(edges[b + 1]),
            "count": int((which == b).sum()),
            "confidence": float(s[which == b].mean()),
            "accuracy": float(y[which == b].mean()),
        }
        for b in range(bins)
        if (which == b).any()
    ]


@dataclass(frozen=True)
class DeferralCurve:
    rates: list[float]
    accuracy: list[float]
    random_accuracy: list[float]
    oracle_accuracy: list[float]

    @property
    def area(self) -> float:
        return float(np.trapezoid(self.accuracy, self.rates))

    @property
    def random_area(self) -> float:
        return float(np.trapezoid(self.random_accuracy, self.rates))

    @property
    def oracle_area(self) -> float:
        return float(np.trapezoid(self.oracle_accuracy, self.rates))


def deferral_curve(
    confidence: Sequence[float], local_correct: Sequence[bool], strong_correct: Sequence[bool]
) -> DeferralCurve:
    """Accuracy after deferring the k least confident items, for k = 0..n."""
    c = np.asarray(confidence, dtype=np.float64)
    local = np.asarray(local_correct, dtype=np.float64)
    strong = np.asarray(strong_correct, dtype=np.float64)
    n = len(c)
    order = np.argsort(c, kind="mergesort")
    gain = strong[order] - local[order]
    base = local.sum()
    accuracy = (base + np.concatenate([[0.0], np.cumsum(gain)])) / n
    oracle_gain = np.sort(strong - local)[::-1]
    oracle = (base + np.concatenate([[0.0], np.cumsum(oracle_gain)])) / n
    rates = np.arange(n + 1) / n
    random = local.mean() + rates * (strong.mean() - local.mean())
    return DeferralCurve(rates.tolist(), accuracy.tolist(), random.tolist(), oracle.tolist())


def call_performance_threshold(curve: DeferralCurve, share_of_gap: float) -> float | None:
    """Smallest escalation rate whose accuracy recovers ``share_of_gap`` of the local-to-strong gap."""
    start, end = curve.accuracy[0], curve.accuracy[-1]
    if end <= start:
        return None
    goal = start + share_of_gap * (end - start)
    for rate, accuracy in zip(curve.rates, curve.accuracy, strict=True):
        if accuracy >= goal - 1e-12:
            return rate
    return 1.0
