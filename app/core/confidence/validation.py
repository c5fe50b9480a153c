"""Judging a fit on answers it was not fitted on, and choosing a threshold from scored answers.

``out_of_fold`` scores each fold's answers with a fit made from the other folds (what a fit
says about new answers); ``hearth calibrate`` reports it, and a refit from the user's verdicts
is ranked by it (app/core/conversation/learning/refit.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from app.core.confidence.calibration import DEFAULT_FEATURES, Calibration, fit
from app.core.confidence.signals import Signals


def threshold_for_rate(scores: Sequence[float], rate: float) -> float:
    """A threshold below which about ``rate`` of these answers fall (and would escalate)."""
    ordered = sorted(scores)
    if rate <= 0:
        return 0.0
    if rate >= 1:
        return 1.0
    index = min(len(ordered) - 1, int(round(rate * len(ordered))))
    return float(ordered[index])


def threshold_for_accuracy(scores: Sequence[float], correct: Sequence[bool], accuracy: float) -> float:
    """The lowest threshold at which the answers kept locally are right at least ``accuracy`` of the time."""
    pairs = sorted(zip(scores, correct, strict=True))
    for start in range(len(pairs)):
        kept = pairs[start:]
        if sum(ok for _, ok in kept) / len(kept) >= accuracy:
            return float(pairs[start][0])
    return 1.0


Maker = Callable[[list[Signals], list[bool], list[Sequence[float]] | None], Calibration]


def out_of_fold(
    signals: Sequence[Signals],
    correct: Sequence[bool],
    make: Maker,
    hidden: Sequence[Sequence[float]] | None = None,
    folds: int = 5,
) -> list[float | None]:
    """What fits made by ``make`` say about answers they were not made from: each fold's answers
    scored by a fit of the other folds'."""
    predictions: list[float | None] = [None] * len(signals)
    for fold in range(folds):
        train = [i for i in range(len(signals)) if i % folds != fold]
        calibration = make(
            [signals[i] for i in train],
            [correct[i] for i in train],
            [hidden[i] for i in train] if hidden is not None else None,
        )
        for i in range(fold, len(signals), folds):
            predictions[i] = calibration.probability(calibration.complete(signals[i], hidden[i] if hidden else ()))
    return predictions


def cross_validated(
    model_id: str,
    signals: Sequence[Signals],
    correct: Sequence[bool],
    folds: int = 5,
    features: Sequence[str] = DEFAULT_FEATURES,
    hidden: Sequence[Sequence[float]] | None = None,
) -> list[float | None]:
    """Out-of-fold probabilities of ``fit`` over these features (the probe too, given ``hidden``)."""
    return out_of_fold(
        signals, correct, lambda s, c, h: fit(model_id, s, c, features=features, hidden=h), hidden, folds
    )
