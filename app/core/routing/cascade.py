"""The cascade: the local model answers first; unsure answers climb the tiers.

``Cascade.run`` is a generator of events, so a caller (the CLI, a Qt worker,
a test) sees text as it arrives and may stop at any time by closing it. Every
attempt is reported, including failed ones; the final answer is the last
attempt that produced one, so a dead server never costs the user the local
answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

from app.core.answers import (
    Answer,
    Attempt,
    AttemptEnded,
    AttemptStarted,
    Event,
    Finished,
    TextDelta,
    escalated,
)
from app.core.confidence import self_check
from app.core.confidence.calibration import Scorer
from app.core.confidence.signals import TokenTrace
from app.core.errors import GateClosed, HearthError, ProviderError
from app.core.privacy.gate import GatedProvider, Passage
from app.core.providers.base import Message, Provider, Sampling
from app.core.routing.retry import DEFAULT_RETRY, Cooldowns, RetryPolicy


@dataclass(frozen=True)
class TierPlan:
    name: str
    providers: Sequence[Provider]


ContextFn = Callable[[Provider], list[Message]]


class Cascade:
    def __init__(
        self,
        tiers: Sequence[TierPlan],
        *,
        scorer: Scorer,
        passage: Passage,
        max_answer_tokens: int,
        excluded: Mapping[str, str] | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        cooldowns: Cooldowns | None = None,
        sleep: Callable[[float], None] = time.sleep,
        sampling: Sampling | None = None,
    ):
        """``passage`` is this answer's way out (app/core/privacy/gate.py): each model of a tier is cleared on its own.

        ``excluded`` names tiers the router ruled out for this message, with the reason.
        """
        self.tiers = tiers
        self.scorer = scorer
        self.passage = passage
        self.max_answer_tokens = max_answer_tokens
        self.excluded = excluded or {}
        self.retry = retry
        self.cooldowns = cooldowns or Cooldowns()
        self.sleep = sleep
        self.sampling = sampling  # per-request overrides (the local API's temperature, stop strings)

    def run(self, context: ContextFn, start_at: int = 0) -> Iterator[Event]:
        """Answer from tier ``start_at`` upwards (a user's "ask a stronger model" starts higher up)."""
        started = time.perf_counter()
        attempts: list[Attempt] = []
        before: list[str] = []  # what was said before any model was asked
        tier_index: int | None = start_at
        while tier_index is not None:
            attempt = yield from self._run_tier(self.tiers[tier_index], context, attempts, before)
            if attempt is not None:
                done, attempt.reason = self._verdict(attempt)
                yield AttemptEnded(len(attempts) - 1, attempt)
                if done:
                    break
            tier_index, why_not = self.next_allowed(tier_index)
            if tier_index is None:
                self._say(attempts, before, why_not)
        if not attempts:
            raise GateClosed(" ".join(before))
        if before:
            attempts[0].reason = " ".join([*before, attempts[0].reason])
        final, warning = self._choose(attempts)
        reason = " ".join(attempt.reason for attempt in attempts if attempt.reason)
        if final is not attempts[-1]:
            reason += f" Showing the {final.tier} answer instead."
        yield Finished(
            Answer(
                text=final.text,
                tier=final.tier,
                model_id=final.model_id,
                confidence=final.confidence,
                escalated=escalated(attempts, final),
                reason=reason,
                latency_ms=(time.perf_counter() - started) * 1000,
                tokens_in=final.tokens_in,
                tokens_out=final.tokens_out,
                attempts=attempts,
                complete=final.ok,
                warning=warning,
            )
        )

    def _choose(self, attempts: list[Attempt]) -> tuple[Attempt, str | None]:
        """The answer to show: the last one, unless it is unsure and an earlier one was surer."""
        answered = [attempt for attempt in attempts if attempt.ok]
        if not answered:
            return attempts[-1], None
        last = answered[-1]
        if last.confidence is None or last.confidence >= self.scorer.threshold(last.model_id):
            return last, None
        best = max(answered, key=lambda a: -1.0 if a.confidence is None else a.confidence)
        assert best.confidence is not None
        return best, (
            f"Unsure answer: no tier that may be asked reached its confidence threshold; "
            f"this is the most confident one ({best.tier}, {best.confidence:.2f})."
        )

    @staticmethod
    def _say(attempts: list[Attempt], before: list[str], text: str) -> None:
        """Add to the reason of the latest attempt: what happened after it."""
        if not text:
            return
        if attempts:
            attempts[-1].reason = f"{attempts[-1].reason} {text}".strip()
        else:
            before.append(text)

    def _run_tier(
        self, tier: TierPlan, context: ContextFn, attempts: list[Attempt], before: list[str]
    ) -> Generator[Event, None, Attempt | None]:
        """Try each model of the tier until one answers; returns the last attempt (None: none could be asked).

        Each model is a destination of its own: the gate decides for it, from its own location.
        """
        attempt: Attempt | None = None
        for model in tier.providers:
            skipped = self.passage.barrier(model)
            resting = self.cooldowns.left(model.model_id)
            provider = self.passage.through(model, tier.name)
            if skipped is None and resting <= 0:
                try:
                    self.passage.check(model, context(provider), why=_what_led_here(attempts))
                except GateClosed as exc:
                    skipped = str(exc)
            if skipped is not None:
                self._say(attempts, before, f"Not {model.model_id} ({model.location.value}): {skipped.rstrip('.')}.")
                continue
            if attempts:
                self._say(
                    attempts, before, f"Asked {model.model_id} instead." if attempt else f"Asked the {tier.name} tier."
                )
            if resting > 0:
                attempt = Attempt(
                    tier=tier.name,
                    model_id=model.model_id,
                    location=model.location.value,
                    error=f"{model.model_id} is resting for {resting:.0f} s after repeated failures.",
                )
                attempts.append(attempt)
                yield AttemptEnded(len(attempts) - 1, attempt)
                continue
            attempt = yield from self._tries(tier, provider, context, attempts)
            if attempt.ok:
                break
            if model is not tier.providers[-1]:
                yield AttemptEnded(len(attempts) - 1, attempt)
        return attempt

    def _tries(
        self, tier: TierPlan, provider: Provider, context: ContextFn, attempts: list[Attempt]
    ) -> Generator[Event, None, Attempt]:
        """Ask one model, again while another try can help; returns the last attempt."""
        for number in range(1, self.retry.tries + 1):
            attempt = Attempt(tier=tier.name, model_id=provider.model_id, location=provider.location.value)
            attempts.append(attempt)
            index = len(attempts) - 1
            yield AttemptStarted(index, tier.name, provider.model_id, provider.label)
            yield from stream_attempt(
                provider, context, attempt, index, self.max_answer_tokens, self.scorer, self.sampling
            )
            stamp(attempt, provider)
            if attempt.ok or not attempt.retryable or attempt.text:
                break
            wait = self.retry.wait(number, attempt.retry_after)
            if number == self.retry.tries or wait > self.retry.cap_s:
                rest = max(self.retry.cooldown_s, attempt.retry_after or 0.0)
                self.cooldowns.start(provider.model_id, rest)
                attempt.reason = (
                    f"{provider.model_id} failed {number} time{'s' if number > 1 else ''}; it rests for {rest:.0f} s, "
                    "so the next messages do not wait for it."
                )
                break
            attempt.reason = f"Trying {provider.model_id} again in {wait:.1f} s."
            yield AttemptEnded(index, attempt)
            self.sleep(wait)
        return attempt

    def _verdict(self, attempt: Attempt) -> tuple[bool, str]:
        """Whether the cascade stops at ``attempt``, and why, in words (after what was said of it already)."""
        if attempt.ok and attempt.confidence is None:
            why = f"The {attempt.tier} tier answered (it reports no token probabilities, so it is not scored)."
            return True, why
        threshold = self.scorer.threshold(attempt.model_id)
        checked = self_check.in_words(attempt.signals.get("self_check"), attempt.signals.get("self_check_result"))
        if attempt.ok and attempt.confidence is not None and attempt.confidence >= threshold:
            return True, f"Confident enough: {attempt.confidence:.2f} ≥ threshold {threshold:.2f}. {checked}".strip()
        if attempt.ok and attempt.confidence is not None:
            return False, f"Unsure: confidence {attempt.confidence:.2f} < threshold {threshold:.2f}. {checked}".strip()
        return False, f"{attempt.tier} failed: {attempt.error} {attempt.reason}".strip()

    def next_allowed(self, tier_index: int) -> tuple[int | None, str]:
        """The next tier above ``tier_index`` with a model the gate may let this message reach, or why none.

        Nothing is asked here: consent, where the policy asks, is asked for each model as it is reached.
        """
        for next_index in range(tier_index + 1, len(self.tiers)):
            tier = self.tiers[next_index]
            if tier.name not in self.excluded and any(self.passage.barrier(m) is None for m in tier.providers):
                return next_index, ""
        above = self.tiers[tier_index + 1 :]
        if not above:
            return None, "No higher tier is configured."
        return None, " ".join(f"Not the {tier.name} tier: {self._why_not(tier).rstrip('.')}." for tier in above)

    def _why_not(self, tier: TierPlan) -> str:
        if tier.name in self.excluded:
            return self.excluded[tier.name]
        barriers = {model.model_id: self.passage.barrier(model) for model in tier.providers}
        if len(set(barriers.values())) == 1:
            return next(iter(barriers.values())) or ""
        return "; ".join(f"{model_id}: {why}" for model_id, why in barriers.items())


def _what_led_here(attempts: Sequence[Attempt]) -> str:
    """For the consent question: why another model is being asked."""
    if not attempts:
        return ""
    last = attempts[-1]
    if last.error is not None:
        return f"{last.model_id} did not answer ({last.error})."
    if last.confidence is not None:
        return f"The {last.tier} answer was unsure (confidence {last.confidence:.2f})."
    return ""


def stamp(attempt: Attempt, provider: Provider) -> None:
    """The attempt's part of the audit trail, when what it sent went through the outgoing gate."""
    if isinstance(provider, GatedProvider) and provider.last is not None:
        attempt.destination = provider.label
        attempt.policy = provider.last.policy.value
        attempt.payload_sha256 = provider.last.fingerprint
        attempt.redacted = dict(provider.passage.redaction.found)


def stream_attempt(
    provider: Provider,
    context: ContextFn,
    attempt: Attempt,
    index: int,
    max_tokens: int,
    scorer: Scorer,
    sampling: Sampling | None = None,
) -> Iterator[Event]:
    """Stream one model's answer into ``attempt``: text, usage, signals and confidence.

    A provider error ends the attempt with ``attempt.error`` set and the text received so far kept.
    """
    started = time.perf_counter()
    if scorer.reads_hidden_state(provider.model_id):
        sampling = replace(sampling or Sampling(), hidden_state=True)
    trace = TokenTrace()
    parts: list[str] = []
    question = ""
    try:
        messages = context(provider)
        question = next((m.content for m in reversed(messages) if m.role == "user"), "")
        stream = provider.stream(messages, max_tokens=max_tokens, sampling=sampling)
        try:
            for chunk in stream:
                if attempt.first_token_ms is None and (chunk.text or chunk.logprobs):
                    attempt.first_token_ms = (time.perf_counter() - started) * 1000
                trace.add(chunk)
                if chunk.text:
                    parts.append(chunk.text)
                    yield TextDelta(index, chunk.text, chunk.logprobs, chunk.alternatives)
                if chunk.finish_reason is not None:
                    attempt.finish_reason = chunk.finish_reason
                if chunk.usage is not None:
                    attempt.tokens_in = chunk.usage.prompt_tokens
                    attempt.tokens_out = chunk.usage.completion_tokens
        finally:
            stream.close()
    except HearthError as exc:
        attempt.error = str(exc)
        attempt.retryable = isinstance(exc, ProviderError) and exc.retryable
        attempt.retry_after = getattr(exc, "retry_after", None)
    finally:
        attempt.text = "".join(parts)
        attempt.latency_ms = (time.perf_counter() - started) * 1000
    signals = scorer.complete(provider.model_id, trace.signals(question, attempt.text, attempt.finish_reason), trace)
    attempt.signals = signals.as_dict()
    attempt.hidden = trace.hidden
    attempt.confidence = scorer.score(provider.model_id, signals)
