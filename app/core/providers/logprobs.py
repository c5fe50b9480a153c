"""Token log-probabilities and entropies from one step's logits.

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


def token_stats(logits: npt.NDArray[np.float32], token: int) -> tuple[float, float]:
    """(log softmax(logits)[token], entropy of softmax(logits) in nats), computed stably."""
    shifted = logits - logits.max()
    weights = np.exp(shifted)
    total = float(weights.sum(dtype=np.float64))
    log_total = math.log(total)
    entropy = log_total - float(np.dot(weights, shifted)) / total
    return float(shifted[token]) - log_total, max(0.0, entropy)


def top_k_entropy(logprobs: Sequence[float]) -> float:
    """Entropy of the top-k alternatives a remote API reports, renormalised to sum to one."""
    if not logprobs:
        return 0.0
    probs = np.exp(np.asarray(logprobs, dtype=np.float64))
    probs = probs / probs.sum()
    return float(-(probs * np.log(np.clip(probs, 1e-300, None))).sum())
