"""Token log-probabilities from one step's logits.

llama-cpp-python only reports logprobs for models loaded with
``logits_all=True``, which keeps n_ctx x n_vocab floats and slows generation
about fourfold. The logits of the step that produced a token are all that is
needed, and llama.cpp keeps those anyway.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def token_logprob(logits: npt.NDArray[np.float32], token: int) -> float:
    """log softmax(logits)[token], computed stably."""
    top = float(logits.max())
    log_total = top + float(np.log(np.exp(logits - top).sum(dtype=np.float64)))
    return float(logits[token]) - log_total
