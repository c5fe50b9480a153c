"""Every decision path of the cascade, with scripted providers so each confidence is exact."""

from __future__ import annotations

import pytest

from app.core.answers import AttemptStarted, Finished
from app.core.confidence.calibration import Scorer
from app.core.config.schema import Privacy
from app.core.privacy.gate import ConsentRequest, Decision
from app.core.providers.base import Message
from app.core.routing.cascade import Cascade, TierPlan
from tests.conftest import passage_out
from tests.fakes import ScriptedProvider

QUESTION = [Message("system", "Be brief."), Message("user", "What is the capital of France?")]


def run(store, tiers, privacy=Privacy.CLOUD_AUTO, threshold=0.5, consent=None, start_at=0):
    cascade = Cascade(
        [TierPlan(name, [provider]) for name, provider in tiers],
        scorer=Scorer(threshold),
        passage=passage_out(store, privacy, consent),
        max_answer_tokens=32,
    )
    events = list(cascade.run(lambda _: QUESTION, start_at=start_at))
    return next(e.answer for e in events if isinstance(e, Finished)), events


def local(p, text="Paris is the capital of France."):
    return ScriptedProvider("small", text, p)


def test_a_confident_first_tier_stops_the_cascade(store):
    server = ScriptedProvider("big", "Paris.", 0.99, "self-hosted")
    answer, _ = run(store, [("local", local(0.9)), ("self-hosted", server)])
    assert answer.tier == "local" and not answer.escalated and answer.warning is None
    assert server.calls == 0


def test_escalation_stops_at_the_first_tier_that_clears_its_threshold(store):
    cloud = ScriptedProvider("cloud", "Paris.", 0.99, "cloud")
    answer, events = run(
        store,
        [
            ("local", local(0.2)),
            ("self-hosted", ScriptedProvider("big", "Paris.", 0.8, "self-hosted")),
            ("cloud", cloud),
        ],
    )
    assert answer.tier == "self-hosted" and answer.escalated and answer.warning is None
    assert [e.tier for e in events if isinstance(e, AttemptStarted)] == ["local", "self-hosted"]
    assert cloud.calls == 0


def test_when_no_tier_clears_the_most_confident_answer_is_shown_with_a_warning(store):
    answer, _ = run(
        store,
        [
            ("local", local(0.45, "Lyon maybe.")),
            ("self-hosted", ScriptedProvider("big", "Marseille.", 0.3, "self-hosted")),
        ],
    )
    assert answer.tier == "local" and answer.text == "Lyon maybe."
    assert answer.warning is not None and "most confident one (local, 0.45)" in answer.warning


def test_the_highest_tier_the_policy_allows_is_the_last_asked(store):
    cloud = ScriptedProvider("cloud", "Paris.", 0.99, "cloud")
    answer, _ = run(
        store,
        [
            ("local", local(0.2)),
            ("self-hosted", ScriptedProvider("big", "Paris!", 0.3, "self-hosted")),
            ("cloud", cloud),
        ],
        privacy=Privacy.SELF_HOSTED,
    )
    assert cloud.calls == 0
    assert "Not the cloud tier: the privacy policy" in answer.reason and answer.warning is not None


def test_a_forbidden_tier_is_skipped_for_an_allowed_one_above_it(store):
    cloud = ScriptedProvider("cloud", "Paris.", 0.99, "cloud")
    server = ScriptedProvider("big", "Paris.", 0.99, "self-hosted")
    answer, _ = run(
        store, [("local", local(0.2)), ("cloud", cloud), ("self-hosted", server)], privacy=Privacy.SELF_HOSTED
    )
    assert cloud.calls == 0 and server.calls == 1 and answer.tier == "self-hosted"


@pytest.mark.parametrize("approve", [True, False])
def test_cloud_after_consent_asks_first_and_respects_a_no(store, approve: bool):
    asked: list[ConsentRequest] = []
    cloud = ScriptedProvider("cloud", "Paris.", 0.99, "cloud")

    def consent(request: ConsentRequest) -> Decision:
        asked.append(request)
        return Decision.ONCE if approve else Decision.NOT_NOW

    answer, _ = run(
        store, [("local", local(0.2)), ("cloud", cloud)], privacy=Privacy.CLOUD_WITH_CONSENT, consent=consent
    )
    assert [r.model_id for r in asked] == ["cloud"] and list(asked[0].messages) == QUESTION
    assert cloud.calls == (1 if approve else 0)
    assert answer.escalated is approve


def test_a_failed_tier_passes_to_the_next_one(store):
    answer, _ = run(
        store,
        [
            ("local", local(0.2)),
            ("self-hosted", ScriptedProvider("big", "", None, "self-hosted", fail="connection refused")),
            ("cloud", ScriptedProvider("cloud", "Paris.", 0.95, "cloud")),
        ],
    )
    assert answer.tier == "cloud" and answer.attempts[1].error and "connection refused" in answer.attempts[1].error


def test_an_unscored_remote_answer_is_accepted_as_is(store):
    answer, _ = run(
        store, [("local", local(0.2)), ("self-hosted", ScriptedProvider("big", "Paris.", None, "self-hosted"))]
    )
    assert answer.tier == "self-hosted" and answer.confidence is None and answer.warning is None
    assert "not scored" in answer.reason


def test_a_user_reask_starts_one_tier_up(store):
    small = local(0.99)
    answer, _ = run(
        store, [("local", small), ("self-hosted", ScriptedProvider("big", "Paris.", 0.9, "self-hosted"))], start_at=1
    )
    assert small.calls == 0 and answer.tier == "self-hosted"
