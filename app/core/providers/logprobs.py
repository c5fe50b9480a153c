"""Token log-probabilities, entropies and top-2 margins from one step's logits.

llama-cpp-python only reports logprobs for models loaded with
``logits_all=True``, which keeps n_ctx x n_vocab floats and slows generation
about fourfold. The logits of the step that produced a token are all that is
needed, and llama.cpp keeps those anyway.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt


def token_stats(logits: npt.NDArray[np.float32], token: int) -> tuple[float, float, float]:
    """(log softmax(logits)[token], entropy of softmax(logits) in nats, log-probability margin of the
    most likely token over the second), computed stably."""
    shifted = logits - logits.max()
    weights = np.exp(shifted)
    total = float(weights.sum(dtype=np.float64))
    log_total = math.log(total)
    entropy = log_total - float(np.dot(weights, shifted)) / total
    second = float(np.partition(shifted, -2)[-2])  # the largest is 0 after the shift
    return float(shifted[token]) - log_total, max(0.0, entropy), -second


def likeliest(logits: npt.NDArray[np.float32], count: int) -> list[tuple[int, float]]:
    """The ``count`` likeliest tokens of one step, best first, each with its log softmax(logits)."""
    count = min(count, len(logits))
    shifted = logits.astype(np.float64) - float(logits.max())
    log_total = math.log(float(np.exp(shifted).sum()))
    best = np.argpartition(shifted, -count)[-count:]
    best = best[np.argsort(-shifted[best], kind="stable")]
    return [(int(token), float(shifted[token]) - log_total) for token in best]


def top_k_margin(logprobs: Sequence[float]) -> float | None:
    """The margin of the best of the top-k alternatives a remote API reports over the second."""
    if len(logprobs) < 2:
        return None
    best, second = sorted(logprobs, reverse=True)[:2]
    return float(best - second)


def top_k_entropy(logprobs: Sequence[float]) -> float:
    """Entropy of the top-k alternatives a remote API reports, renormalised to sum to one."""
    if not logprobs:
        return 0.0
    probs = np.exp(np.asarray(logprobs, dtype=np.float64))
    probs = probs / probs.sum()
    return float(-(probs * np.log(np.clip(probs, 1e-300, None))).sum())
