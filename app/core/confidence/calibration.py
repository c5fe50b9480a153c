"""Calibrated confidence: a fitted probability that an answer is right, per model.

A logistic regression over the answer's signals, fitted on labelled answers
by ``hearth calibrate``. It is a dozen numbers, so it is fitted here with
numpy (Newton's method with an L2 penalty) rather than pulling in
scikit-learn. Each model's fit is a versioned JSON file in
``<data>/calibration/<model>.json``; a model without one uses the documented
default score of ``app.core.confidence.signals``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from app.core.confidence.signals import Signals, default_score

FORMAT_VERSION = 1
FEATURES = (
    "q10_prob",
    "q25_prob",
    "min_logprob",
    "mean_logprob",
    "mean_entropy",
    "log_tokens",
    "hedge",
    "refusal",
    "truncated",
    "repetition",
    "empty",
    "language_mismatch",
)


def features(signals: Signals) -> list[float]:
    """The feature vector, or an empty list when the answer has no token probabilities."""
    if not signals.has_token_probabilities:
        return []
    return [
        signals.q10_prob or 0.0,
        signals.q25_prob or 0.0,
        max(signals.min_logprob or 0.0, -30.0),
        max(signals.mean_logprob or 0.0, -30.0),
        signals.mean_entropy or 0.0,
        math.log1p(signals.n_tokens),
        float(signals.hedge),
        float(signals.refusal),
        float(signals.truncated),
        signals.repetition,
        float(signals.empty),
        float(signals.language_mismatch),
    ]


class Calibration(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = FORMAT_VERSION
    model_id: str
    features: tuple[str, ...] = FEATURES
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float | None = None
    target: str | None = None
    fitted_at: str
    examples: int
    correct: int

    def probability(self, signals: Signals) -> float | None:
        values = features(signals)
        if not values:
            return None
        z = (np.asarray(values) - np.asarray(self.mean)) / np.asarray(self.scale)
        return float(_sigmoid(float(z @ np.asarray(self.weights)) + self.bias))


def _sigmoid(x: float | np.ndarray) -> float | np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -35, 35)))


def fit(model_id: str, signals: Sequence[Signals], correct: Sequence[bool], l2: float = 1.0) -> Calibration:
    """Logistic regression of correctness on the signals (answers without token probabilities are skipped)."""
    rows = [(features(s), c) for s, c in zip(signals, correct, strict=True) if s.has_token_probabilities]
    if len(rows) < 10:
        raise ValueError(f"calibration needs at least 10 scored answers, got {len(rows)}")
    x = np.asarray([r[0] for r in rows], dtype=np.float64)
    y = np.asarray([float(r[1]) for r in rows])
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    beta = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[-1] = 0.0  # the intercept is not shrunk
    for _ in range(50):
        p = _sigmoid(z @ beta)
        gradient = z.T @ (p - y) + penalty * beta
        hessian = (z * (p * (1 - p))[:, None]).T @ z + np.diag(penalty) + 1e-9 * np.eye(len(beta))
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return Calibration(
        model_id=model_id,
        mean=tuple(mean.tolist()),
        scale=tuple(scale.tolist()),
        weights=tuple(beta[:-1].tolist()),
        bias=float(beta[-1]),
        fitted_at=datetime.now(UTC).isoformat(timespec="seconds"),
        examples=len(rows),
        correct=int(y.sum()),
    )


def calibration_file(folder: Path, model_id: str) -> Path:
    return folder / (re.sub(r"[^A-Za-z0-9._-]", "_", model_id) + ".json")


def save(calibration: Calibration, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = calibration_file(folder, calibration.model_id)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(calibration.model_dump_json(indent=2), encoding="utf-8")
    temporary.replace(path)
    return path


def load(folder: Path, model_id: str) -> Calibration | None:
    """The model's fit, or None when there is none or it is from another format version."""
    path = calibration_file(folder, model_id)
    try:
        calibration = Calibration.model_validate_json(path.read_bytes())
    except (FileNotFoundError, ValidationError):
        return None
    if calibration.version != FORMAT_VERSION or calibration.features != FEATURES:
        return None
    return calibration


class Scorer:
    """Confidence and threshold per model: calibrated where a fit exists, the default otherwise."""

    def __init__(
        self,
        default_threshold: float,
        calibrations: dict[str, Calibration] | None = None,
        forced_threshold: float | None = None,
    ):
        """``forced_threshold`` overrides every model's threshold (an A/B arm that tries another one)."""
        self.default_threshold = default_threshold
        self.calibrations = calibrations or {}
        self.forced_threshold = forced_threshold

    def with_threshold(self, threshold: float) -> Scorer:
        return Scorer(self.default_threshold, self.calibrations, forced_threshold=threshold)

    @classmethod
    def from_folder(cls, folder: Path, model_ids: Sequence[str], default_threshold: float) -> Scorer:
        found = {model_id: load(folder, model_id) for model_id in model_ids}
        return cls(default_threshold, {k: v for k, v in found.items() if v is not None})

    def score(self, model_id: str, signals: Signals) -> float | None:
        calibration = self.calibrations.get(model_id)
        return calibration.probability(signals) if calibration else default_score(signals)

    def threshold(self, model_id: str) -> float:
        if self.forced_threshold is not None:
            return self.forced_threshold
        calibration = self.calibrations.get(model_id)
        if calibration is not None and calibration.threshold is not None:
            return calibration.threshold
        return self.default_threshold

    def calibrated(self, model_id: str) -> bool:
        return model_id in self.calibrations


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


def cross_validated(
    model_id: str, signals: Sequence[Signals], correct: Sequence[bool], folds: int = 5
) -> list[float | None]:
    """Out-of-fold probabilities: what the fit says about answers it was not fitted on."""
    predictions: list[float | None] = [None] * len(signals)
    for fold in range(folds):
        train = [i for i in range(len(signals)) if i % folds != fold]
        calibration = fit(model_id, [signals[i] for i in train], [correct[i] for i in train])
        for i in range(fold, len(signals), folds):
            predictions[i] = calibration.probability(signals[i])
    return predictions
