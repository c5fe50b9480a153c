"""The cascade: the local model answers first; unsure answers climb the tiers.

``Cascade.run`` is a generator of events, so a caller (the CLI, a Qt worker,
a test) sees text as it arrives and may stop at any time by closing it. Every
attempt is reported, including failed ones; the final answer is the last
attempt that produced one, so a dead server never costs the user the local
answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from app.core.calibration import Scorer
from app.core.confidence import TokenTrace
from app.core.config import Location, Privacy
from app.core.errors import HearthError, ProviderError
from app.core.outbound import RedactingProvider
from app.core.policy import Allowance, allowance
from app.core.providers.base import Message, Provider, Sampling
from app.core.redaction import Redaction
from app.core.retry import DEFAULT_RETRY, Cooldowns, RetryPolicy


@dataclass(frozen=True)
class TierPlan:
    name: str
    providers: Sequence[Provider]


@dataclass
class Attempt:
    tier: str
    model_id: str
    location: str
    text: str = ""
    confidence: float | None = None
    signals: dict[str, float | int | str | bool | None] = field(default_factory=dict)
    latency_ms: float = 0.0
    first_token_ms: float | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    finish_reason: str | None = None
    error: str | None = None
    # What happened next, in words: why the cascade stopped here or went on.
    reason: str = ""
    cost: float = 0.0  # USD, from the model's prices in models.toml
    provider: str = ""  # the kind of provider: llama-cpp, openai-compatible, anthropic, gemini
    # The audit trail of what left the machine (remote tiers only).
    destination: str = ""
    policy: str = ""
    payload_sha256: str | None = None
    redacted: dict[str, int] = field(default_factory=dict)
    # How the error may be handled (not stored): worth another try, and when.
    retryable: bool = False
    retry_after: float | None = None
    # The model's final hidden state (not stored: the probe's reading of it is, in the signals).
    hidden: tuple[float, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class EscalationRequest:
    """What consent is asked for: the exact (redacted) messages, where they would go, what it may cost."""

    tier: str
    model_id: str
    destination: str
    messages: Sequence[Message]
    estimated_cost: float | None = None


@dataclass(frozen=True)
class Answer:
    text: str
    tier: str
    model_id: str
    confidence: float | None
    escalated: bool
    reason: str
    latency_ms: float
    tokens_in: int
    tokens_out: int
    attempts: Sequence[Attempt]
    complete: bool
    # Set when the answer shown did not reach its tier's confidence threshold.
    warning: str | None = None


@dataclass(frozen=True)
class AttemptStarted:
    index: int
    tier: str
    model_id: str
    label: str


@dataclass(frozen=True)
class TextDelta:
    index: int
    text: str


@dataclass(frozen=True)
class AttemptEnded:
    index: int
    attempt: Attempt


@dataclass(frozen=True)
class Finished:
    answer: Answer


Event = AttemptStarted | TextDelta | AttemptEnded | Finished
ConsentFn = Callable[[EscalationRequest], bool]
ContextFn = Callable[[Provider], list[Message]]
CostFn = Callable[[str, Sequence[Message]], float]


def _refuse(_: EscalationRequest) -> bool:
    return False


class Cascade:
    def __init__(
        self,
        tiers: Sequence[TierPlan],
        *,
        scorer: Scorer,
        privacy: Privacy,
        max_answer_tokens: int,
        consent: ConsentFn = _refuse,
        excluded: Mapping[str, str] | None = None,
        redact: bool = True,
        estimate: CostFn | None = None,
        message_budget: float | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        cooldowns: Cooldowns | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        """``excluded`` names tiers the router ruled out for this message, with the reason.

        ``estimate`` prices a request before it is sent (for consent and the
        per-message ``message_budget``); ``redact`` hides personal data from remote tiers.
        """
        self.tiers = tiers
        self.excluded = excluded or {}
        self.redact = redact
        self.estimate = estimate
        self.message_budget = message_budget
        self.retry = retry
        self.cooldowns = cooldowns or Cooldowns()
        self.sleep = sleep
        self._redaction = Redaction()
        self._outbound: dict[str, RedactingProvider] = {}
        self.scorer = scorer
        self.privacy = privacy
        self.max_answer_tokens = max_answer_tokens
        self.consent = consent

    def run(self, context: ContextFn, start_at: int = 0) -> Iterator[Event]:
        """Answer from tier ``start_at`` upwards (a user's "ask a stronger model" starts one up)."""
        started = time.perf_counter()
        attempts: list[Attempt] = []
        self._redaction = Redaction()  # one set of placeholders for every tier of this answer
        self._outbound = {}
        tier_index = start_at
        while tier_index < len(self.tiers):
            tier = self.tiers[tier_index]
            attempt = yield from self._run_tier(tier, context, attempts)
            next_index, reason = self._next_step(tier_index, attempt, context)
            attempt.reason = reason
            yield AttemptEnded(len(attempts) - 1, attempt)
            if next_index is None:
                break
            tier_index = next_index
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
                escalated=final is not attempts[0],
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

    def _run_tier(self, tier: TierPlan, context: ContextFn, attempts: list[Attempt]) -> Iterator[Event]:
        """Try each model of the tier until one answers; returns the last attempt."""
        attempt: Attempt | None = None
        for model in tier.providers:
            resting = self.cooldowns.left(model.model_id)
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
            attempt = yield from self._tries(tier, self._through(model), context, attempts)
            if attempt.ok:
                break
            if model is not tier.providers[-1]:
                yield AttemptEnded(len(attempts) - 1, attempt)
        assert attempt is not None
        return attempt

    def _tries(
        self, tier: TierPlan, provider: Provider, context: ContextFn, attempts: list[Attempt]
    ) -> Iterator[Event]:
        """Ask one model, again while another try can help; returns the last attempt."""
        for number in range(1, self.retry.tries + 1):
            attempt = Attempt(tier=tier.name, model_id=provider.model_id, location=provider.location.value)
            attempts.append(attempt)
            index = len(attempts) - 1
            yield AttemptStarted(index, tier.name, provider.model_id, provider.label)
            yield from stream_attempt(provider, context, attempt, index, self.max_answer_tokens, self.scorer)
            if isinstance(provider, RedactingProvider):
                attempt.destination = provider.label
                attempt.policy = self.privacy.value
                attempt.payload_sha256 = provider.sent_fingerprint
                attempt.redacted = self._redaction.found
            if attempt.ok or not attempt.retryable or attempt.text:
                break
            wait = self.retry.wait(number, attempt.retry_after)
            if number == self.retry.tries or wait > self.retry.cap_s:
                self.cooldowns.start(provider.model_id, max(self.retry.cooldown_s, attempt.retry_after or 0.0))
                break
            attempt.reason = f"Trying {provider.model_id} again in {wait:.1f} s."
            yield AttemptEnded(index, attempt)
            self.sleep(wait)
        return attempt

    def _through(self, provider: Provider) -> Provider:
        """Remote tiers see redacted messages (and the user sees their replies restored)."""
        if not self.redact or provider.location is Location.LOCAL:
            return provider
        if provider.model_id not in self._outbound:
            self._outbound[provider.model_id] = RedactingProvider(provider, self._redaction)
        return self._outbound[provider.model_id]

    def _next_step(self, tier_index: int, attempt: Attempt, context: ContextFn) -> tuple[int | None, str]:
        """Where to go after ``attempt``, and the reason in words."""
        if attempt.ok and attempt.confidence is None:
            return None, f"The {attempt.tier} tier answered (it reports no token probabilities, so it is not scored)."
        threshold = self.scorer.threshold(attempt.model_id)
        if attempt.ok and attempt.confidence is not None and attempt.confidence >= threshold:
            return None, f"Confident enough: {attempt.confidence:.2f} ≥ threshold {threshold:.2f}."
        why = (
            f"Unsure: confidence {attempt.confidence:.2f} < threshold {threshold:.2f}."
            if attempt.ok and attempt.confidence is not None
            else f"{attempt.tier} failed: {attempt.error}"
        )
        next_index, how = self.next_allowed(tier_index, context)
        return next_index, f"{why} {how}"

    def next_allowed(self, tier_index: int, context: ContextFn) -> tuple[int | None, str]:
        """The next tier above ``tier_index`` the privacy policy (and the user's consent) allows."""
        for next_index in range(tier_index + 1, len(self.tiers)):
            tier = self.tiers[next_index]
            rule = allowance(self.privacy, tier.providers[0].location)
            if rule is Allowance.FORBIDDEN or tier.name in self.excluded:
                continue
            provider = self._through(tier.providers[0])
            outgoing = context(provider)
            if isinstance(provider, RedactingProvider):
                outgoing = provider.outgoing(outgoing)
            cost = self.estimate(provider.model_id, outgoing) if self.estimate else None
            if cost is not None and self.message_budget is not None and cost > self.message_budget:
                self.excluded = {
                    **self.excluded,
                    tier.name: (
                        f"it would cost about ${cost:.4f}, over the per-message budget of ${self.message_budget:.4f}"
                    ),
                }
                continue
            if rule is Allowance.ASK:
                request = EscalationRequest(tier.name, provider.model_id, provider.label, outgoing, cost)
                if not self.consent(request):
                    return None, f"You did not approve sending it to {tier.name}."
            return next_index, f"Asked the {tier.name} tier."
        above = [tier.name for tier in self.tiers[tier_index + 1 :]]
        if not above:
            return None, "No higher tier is configured."
        policy = f"the privacy policy '{self.privacy.value}' does not allow it"
        return None, " ".join(f"Not the {name} tier: {self.excluded.get(name, policy)}." for name in above)


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
                    yield TextDelta(index, chunk.text)
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
