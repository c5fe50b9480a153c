"""Retries with backoff where they can help, Retry-After honoured, and resting a failing model."""

from __future__ import annotations

import pytest

from app.core.answers import Finished
from app.core.confidence.calibration import Scorer
from app.core.config.schema import Location, Privacy
from app.core.errors import ProviderAuthError, ProviderRateLimited, ProviderStreamError, ProviderUnreachable
from app.core.providers.base import Chunk, Message, Usage
from app.core.routing.cascade import Cascade, TierPlan
from app.core.routing.retry import DEFAULT_RETRY, Cooldowns, RetryPolicy
from tests.conftest import passage_out
from tests.fakes import ScriptedProvider

QUESTION = [Message("user", "What is the capital of France?")]


class Flaky:
    """Fails with the given errors, one per call, then answers."""

    def __init__(self, model_id: str, errors: list[Exception], partial: str = ""):
        self.model_id, self.location, self.n_ctx = model_id, Location.CLOUD, 4096
        self.address, self.missing_key = f"https://{model_id}.example", None
        self.errors, self.partial, self.calls = list(errors), partial, 0

    label = property(lambda self: f"{self.model_id} (flaky)")

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def stream(self, messages, *, max_tokens, sampling=None, clearance=None):
        self.calls += 1
        if self.errors:
            if self.partial:
                yield Chunk(self.partial, (-0.1,))
            raise self.errors.pop(0)
        yield Chunk("Paris.", (-0.01,))
        yield Chunk("", finish_reason="stop", usage=Usage(5, 1))

    def close(self) -> None:
        pass


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def run(store, remote_models, clock: Clock, cooldowns: Cooldowns | None = None, policy: RetryPolicy = DEFAULT_RETRY):
    local = ScriptedProvider("small", "Lyon?", 0.1)
    cascade = Cascade(
        [TierPlan("local", [local]), TierPlan("cloud", remote_models)],
        scorer=Scorer(0.5),
        passage=passage_out(store, Privacy.CLOUD_AUTO, redact=False),
        max_answer_tokens=16,
        retry=policy,
        cooldowns=cooldowns or Cooldowns(clock=lambda: clock.now),
        sleep=clock.sleep,
    )
    return next(e.answer for e in cascade.run(lambda _: QUESTION) if isinstance(e, Finished))


def unreachable(model: str = "gpt") -> ProviderUnreachable:
    return ProviderUnreachable("connection reset", provider=model)


def test_a_transient_failure_is_retried_with_growing_waits(store):
    clock = Clock()
    flaky = Flaky("gpt", [unreachable(), unreachable()])
    answer = run(store, [flaky], clock)
    assert answer.tier == "cloud" and answer.text == "Paris." and flaky.calls == 3
    assert len(clock.slept) == 2 and 0.25 <= clock.slept[0] <= 0.5 and 0.5 <= clock.slept[1] <= 1.0
    assert "Trying gpt again in" in answer.attempts[1].reason


def test_retry_after_is_honoured(store):
    clock = Clock()
    answer = run(store, [Flaky("gpt", [ProviderRateLimited("slow down", provider="gpt", retry_after=3.0)])], clock)
    assert clock.slept == [3.0] and answer.tier == "cloud"


def test_a_retry_after_longer_than_the_cap_rests_the_model_instead_of_waiting(store):
    clock = Clock()
    cooldowns = Cooldowns(clock=lambda: clock.now)
    answer = run(
        store, [Flaky("gpt", [ProviderRateLimited("quota", provider="gpt", retry_after=600.0)])], clock, cooldowns
    )
    assert clock.slept == [] and answer.tier == "local" and answer.warning is not None
    assert cooldowns.left("gpt") == pytest.approx(600.0)


@pytest.mark.parametrize(
    "error", [ProviderAuthError("bad key", provider="gpt"), ProviderStreamError("garbled", provider="gpt")]
)
def test_errors_a_retry_cannot_fix_are_not_retried(store, error):
    clock = Clock()
    flaky = Flaky("gpt", [error])
    answer = run(store, [flaky], clock)
    assert flaky.calls == 1 and clock.slept == [] and answer.tier == "local"


def test_an_answer_that_had_started_is_never_asked_again(store):
    clock = Clock()
    flaky = Flaky("gpt", [unreachable()], partial="Par")
    answer = run(store, [flaky], clock)
    assert flaky.calls == 1 and answer.attempts[-1].text == "Par" and answer.attempts[-1].error


def test_a_model_that_keeps_failing_rests_and_the_next_one_of_its_tier_answers(store):
    clock = Clock()
    cooldowns = Cooldowns(clock=lambda: clock.now)
    broken = Flaky("gpt", [unreachable()] * 10)
    backup = Flaky("claude", [])
    first = run(store, [broken, backup], clock, cooldowns, RetryPolicy(tries=2, cooldown_s=60))
    assert first.model_id == "claude" and broken.calls == 2 and cooldowns.left("gpt") > 0
    second = run(store, [broken, backup], clock, cooldowns, RetryPolicy(tries=2, cooldown_s=60))
    assert broken.calls == 2, "a resting model was asked"
    assert second.model_id == "claude" and "resting for" in second.attempts[1].error
    clock.now += 61
    run(store, [broken, backup], clock, cooldowns, RetryPolicy(tries=2, cooldown_s=60))
    assert broken.calls == 4, "the rest ended, so the model is asked again"


def test_a_retry_on_the_same_tier_is_not_an_escalation(store):
    flaky = Flaky("gpt", [unreachable()])
    cascade = Cascade(
        [TierPlan("cloud", [flaky])],
        scorer=Scorer(0.5),
        passage=passage_out(store, Privacy.CLOUD_AUTO, redact=False),
        max_answer_tokens=16,
        cooldowns=Cooldowns(clock=lambda: 0.0),
        sleep=lambda _: None,
    )
    answer = next(e.answer for e in cascade.run(lambda _: QUESTION) if isinstance(e, Finished))
    assert answer.text == "Paris." and len(answer.attempts) == 2 and not answer.escalated
