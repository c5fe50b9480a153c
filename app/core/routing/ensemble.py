"""Ensemble mode: k models (or k samples of one) answer, and the most-agreed-with answer is shown.

Agreement is the mean word-overlap (Jaccard) of an answer with the others;
the answer with the highest agreement wins, ties going to the more
confident one, then the earlier one. Its confidence blends agreement with
its own token-probability confidence (``agreement_weight``), so answers
that several samples reach independently are trusted more.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from app.core.answers import Answer, Attempt, AttemptEnded, AttemptStarted, Event, Finished
from app.core.confidence.calibration import Scorer
from app.core.providers.base import Provider, Sampling
from app.core.routing.cascade import ContextFn, stamp, stream_attempt

SEED_BASE = 7919
_WORD = re.compile(r"\w+", re.UNICODE)


def words(text: str) -> frozenset[str]:
    return frozenset(word.lower() for word in _WORD.findall(text))


def similarity(a: str, b: str) -> float:
    first, second = words(a), words(b)
    if not first and not second:
        return 1.0
    return len(first & second) / len(first | second)


@dataclass(frozen=True)
class Vote:
    index: int
    agreement: float | None  # None when only one answer came back


def choose(attempts: Sequence[Attempt]) -> Vote | None:
    usable = [i for i, attempt in enumerate(attempts) if attempt.ok and attempt.text.strip()]
    if not usable:
        return None
    if len(usable) == 1:
        return Vote(usable[0], None)
    agreement = {
        i: sum(similarity(attempts[i].text, attempts[j].text) for j in usable if j != i) / (len(usable) - 1)
        for i in usable
    }
    best = max(usable, key=lambda i: (round(agreement[i], 9), attempts[i].confidence or 0.0, -i))
    return Vote(best, agreement[best])


class EnsembleRun:
    def __init__(
        self,
        providers: Sequence[Provider],
        *,
        samples: int,
        temperature: float,
        agreement_weight: float,
        scorer: Scorer,
        max_answer_tokens: int,
    ):
        self.providers = providers
        self.samples = samples
        self.temperature = temperature
        self.agreement_weight = agreement_weight
        self.scorer = scorer
        self.max_answer_tokens = max_answer_tokens

    def run(self, context: ContextFn) -> Iterator[Event]:
        started = time.perf_counter()
        attempts: list[Attempt] = []
        for provider in self.providers:
            for sample in range(self.samples):
                # One sample per model keeps the model's own settings; several need variety.
                sampling = Sampling(self.temperature, SEED_BASE + sample) if self.samples > 1 else None
                attempt = Attempt(tier="ensemble", model_id=provider.model_id, location=provider.location.value)
                attempts.append(attempt)
                index = len(attempts) - 1
                yield AttemptStarted(index, "ensemble", provider.model_id, provider.label)
                yield from stream_attempt(
                    provider, context, attempt, index, self.max_answer_tokens, self.scorer, sampling
                )
                stamp(attempt, provider)
                yield AttemptEnded(index, attempt)
        yield Finished(self._answer(attempts, (time.perf_counter() - started) * 1000))

    def _answer(self, attempts: list[Attempt], latency_ms: float) -> Answer:
        vote = choose(attempts)
        if vote is None:
            failed = attempts[-1]
            return Answer(
                failed.text,
                "ensemble",
                failed.model_id,
                None,
                False,
                "No model of the ensemble answered.",
                latency_ms,
                failed.tokens_in,
                failed.tokens_out,
                attempts,
                complete=False,
            )
        chosen = attempts[vote.index]
        own = chosen.confidence
        if vote.agreement is None:
            confidence, reason = own, "Only one answer of the ensemble came back."
        else:
            confidence = (
                vote.agreement
                if own is None
                else self.agreement_weight * vote.agreement + (1 - self.agreement_weight) * own
            )
            reason = (
                f"Ensemble of {len(attempts)}: answer {vote.index + 1} agrees most with the others "
                f"(agreement {vote.agreement:.2f}" + (f", its own confidence {own:.2f})." if own is not None else ").")
            )
        threshold = self.scorer.threshold(chosen.model_id)
        warning = (
            f"Unsure answer: the ensemble's confidence {confidence:.2f} is below {threshold:.2f}."
            if confidence is not None and confidence < threshold
            else None
        )
        for attempt in attempts:
            attempt.reason = "Chosen." if attempt is chosen else "Not chosen."
        return Answer(
            text=chosen.text,
            tier="ensemble",
            model_id=chosen.model_id,
            confidence=confidence,
            escalated=False,
            reason=reason,
            latency_ms=latency_ms,
            tokens_in=sum(a.tokens_in for a in attempts),
            tokens_out=sum(a.tokens_out for a in attempts),
            attempts=attempts,
            complete=True,
            warning=warning,
        )
