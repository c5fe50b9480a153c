"""Confidence: how likely an answer is to be right, from signals the answer carries.

Signals are the answer's token probabilities (mean, sum, minimum and low
quantiles of the log-probabilities, the entropy of the distributions its
tokens were drawn from, the margin of the most likely token over the second),
the same over the answer span only (the words that carry the answer, see
``app.core.confidence.answer_span``), and cheap checks of its text (hedging, refusal,
cut off by the length limit, a repetition loop, empty, another language than
the question). Where the request is one Hearth can work out itself (simple
arithmetic, sorting words alphabetically: ``app.core.confidence.self_check``),
whether the answer agrees with Hearth's own result is a signal too.

A model with a fitted calibration (``app.core.confidence.calibration``) turns these into
a probability. Without one, the score is the probability of the least likely
token of the answer span (``exp`` of its minimum log-probability), discounted
by the text checks, and raised or lowered where Hearth checked the answer itself.
On the calibration halves of tests/data (the bundled model, 715 answers) the
least likely token ranked right answers above wrong ones far better than the
mean log-probability over all tokens (pooled cross-validated AUROC 0.72
against 0.55): the answer's weakest word is what the model was unsure of,
while over all tokens the restated question and the filler dilute it. The
self-check lifts this score's held-out AUROC from 0.73 to 0.85 (pooled, 708
answers; 0.67 to 1.00 on arithmetic, 0.80 to 0.91 on the instructions).
bench/cascade.py reports every signal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields

import numpy as np

from app.core.confidence import answer_checks, self_check
from app.core.confidence.answer_span import span_mask
from app.core.providers.base import Chunk

# Uncalibrated discounts, applied when a text check fires.
DEFAULT_DISCOUNTS = {
    "hedge": 0.7,
    "refusal": 0.5,
    "truncated": 0.7,
    "looping": 0.5,
    "language_mismatch": 0.5,
}
LOOPING = 0.3  # share of repeated word 4-grams from which an answer counts as looping
# Uncalibrated score of an answer that Hearth's own result contradicts, and the least one it confirms.
DISAGREES_WITH_SELF_CHECK = 0.05
AGREES_WITH_SELF_CHECK = 0.95


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
    # Added later: answers stored before have none of these.
    sum_logprob: float | None = None
    max_entropy: float | None = None
    mean_margin: float | None = None
    min_margin: float | None = None
    span_tokens: int | None = None
    span_mean_logprob: float | None = None
    span_min_logprob: float | None = None
    span_first_logprob: float | None = None
    span_mean_entropy: float | None = None
    span_min_margin: float | None = None
    # The hidden-state probe's probability, where the model's calibration has a probe, and which
    # probe read it (``Logistic.fingerprint``): another probe's reading means nothing to a fit.
    probe: float | None = None
    probe_of: str | None = None
    # The end-of-answer token's log-probability, where the model ended the answer with it: how sure
    # it was that the answer was complete.
    end_logprob: float | None = None
    # Whether the answer agrees with Hearth's own result, where the request is one Hearth can work
    # out itself (``self_check``); None elsewhere.
    self_check: bool | None = None
    # Hearth's own result, where it worked one out (an arithmetic request), to show beside the answer.
    self_check_result: str | None = None

    @property
    def has_token_probabilities(self) -> bool:
        return self.mean_logprob is not None

    def as_dict(self) -> dict[str, float | int | str | bool | None]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, float | int | str | bool | None]) -> Signals:
        """Signals as stored with an answer (keys this version does not know are ignored)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})  # type: ignore[arg-type]


def signals_from(
    question: str,
    answer: str,
    logprobs: Sequence[float],
    entropies: Sequence[float],
    finish_reason: str | None,
    margins: Sequence[float] = (),
    tokens: Sequence[str] = (),
    end_logprob: float | None = None,
) -> Signals:
    lp = np.asarray(logprobs, dtype=np.float64)
    probs = np.exp(lp)
    ent = np.asarray(entropies, dtype=np.float64)
    mar = np.asarray(margins, dtype=np.float64)

    def quantile(q: float) -> float | None:
        # "lower": an actual token's probability, never interpolated upwards past the guessed tokens.
        return float(np.quantile(probs, q, method="lower")) if len(probs) else None

    def stat(values: np.ndarray, how: str) -> float | None:
        return float(getattr(np, how)(values)) if len(values) else None

    # The answer span, where each token's text is known; otherwise every token.
    mask = np.asarray(span_mask(tokens, question), dtype=bool) if len(tokens) == len(lp) and len(lp) else None
    if mask is None or not mask.any():
        mask = np.ones(len(lp), dtype=bool)
    span_lp = lp[mask]
    span_ent = ent[mask] if len(ent) == len(lp) else ent
    span_mar = mar[mask] if len(mar) == len(lp) else mar
    checked = answer_checks.sample(answer)
    return Signals(
        n_tokens=len(logprobs),
        mean_logprob=stat(lp, "mean"),
        min_logprob=stat(lp, "min"),
        q05_prob=quantile(0.05),
        q10_prob=quantile(0.10),
        q25_prob=quantile(0.25),
        median_prob=quantile(0.5),
        mean_entropy=stat(ent, "mean"),
        hedge=answer_checks.hedges(checked),
        refusal=answer_checks.refuses(checked),
        truncated=finish_reason == "length",
        repetition=answer_checks.repetition(checked),
        empty=answer_checks.is_empty(checked),
        language_mismatch=answer_checks.language_mismatch(question, checked),
        finish_reason=finish_reason,
        sum_logprob=stat(lp, "sum"),
        max_entropy=stat(ent, "max"),
        mean_margin=stat(mar, "mean"),
        min_margin=stat(mar, "min"),
        span_tokens=int(mask.sum()) if len(lp) else None,
        span_mean_logprob=stat(span_lp, "mean"),
        span_min_logprob=stat(span_lp, "min"),
        span_first_logprob=float(span_lp[0]) if len(span_lp) else None,
        span_mean_entropy=stat(span_ent, "mean"),
        span_min_margin=stat(span_mar, "min"),
        end_logprob=end_logprob,
        self_check=self_check.check(question, answer),
        self_check_result=self_check.worked_out(question),
    )


class TokenTrace:
    """What a stream says about its tokens, gathered chunk by chunk for the signals."""

    def __init__(self) -> None:
        self.logprobs: list[float] = []
        self.entropies: list[float] = []
        self.margins: list[float] = []
        self.tokens: list[str] = []
        self.hidden: tuple[float, ...] = ()
        self.end_logprob: float | None = None

    def add(self, chunk: Chunk) -> None:
        self.logprobs.extend(chunk.logprobs)
        self.entropies.extend(chunk.entropies)
        self.margins.extend(chunk.margins)
        self.tokens.extend(chunk.tokens)
        if chunk.hidden:
            self.hidden = chunk.hidden
        if chunk.end_logprob is not None:
            self.end_logprob = chunk.end_logprob

    def signals(self, question: str, answer: str, finish_reason: str | None) -> Signals:
        return signals_from(
            question,
            answer,
            self.logprobs,
            self.entropies,
            finish_reason,
            self.margins,
            self.tokens,
            self.end_logprob,
        )


def default_score(signals: Signals) -> float | None:
    """The documented uncalibrated score in [0, 1]; None without token probabilities."""
    if signals.span_min_logprob is None:
        return None
    if signals.empty:
        return 0.0
    value = float(np.exp(signals.span_min_logprob))
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
    if signals.self_check is False:
        value = min(value, DISAGREES_WITH_SELF_CHECK)
    elif signals.self_check:
        value = max(value, AGREES_WITH_SELF_CHECK)
    return min(1.0, max(0.0, value))
