"""L2-penalised logistic regression, fitted with numpy: the model of every calibration and probe.

Regressions of this size (a few signals, or one hidden state of a few hundred numbers, over a
few hundred answers) take Newton's method a few milliseconds; scikit-learn would add a large
dependency for nothing more.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import cached_property

import numpy as np
from pydantic import BaseModel, ConfigDict


class Logistic(BaseModel):
    """z-scored inputs, weights and a bias: a probability from a vector."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float

    def logit(self, values: Sequence[float]) -> float:
        z = (np.asarray(values, dtype=np.float64) - np.asarray(self.mean)) / np.asarray(self.scale)
        return float(z @ np.asarray(self.weights)) + self.bias

    def probability(self, values: Sequence[float]) -> float:
        return float(sigmoid(self.logit(values)))

    @cached_property
    def fingerprint(self) -> str:
        """A short hash of the weights: a probe's readings are kept with it."""
        return hashlib.sha256(self.model_dump_json().encode("utf-8")).hexdigest()[:16]


def sigmoid(x: float | np.ndarray) -> float | np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -35, 35)))


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float) -> Logistic:
    """L2-penalised logistic regression by Newton's method (the intercept is not shrunk)."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    beta = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[-1] = 0.0
    for _ in range(50):
        p = sigmoid(z @ beta)
        gradient = z.T @ (p - y) + penalty * beta
        hessian = (z * (p * (1 - p))[:, None]).T @ z + np.diag(penalty) + 1e-9 * np.eye(len(beta))
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return Logistic(
        mean=tuple(mean.tolist()), scale=tuple(scale.tolist()), weights=tuple(beta[:-1].tolist()), bias=float(beta[-1])
    )
