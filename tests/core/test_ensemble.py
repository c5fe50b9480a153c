"""Ensemble mode: several answers, the most-agreed-with one shown, agreement feeding confidence."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.answers import Attempt, Finished
from app.core.confidence.calibration import Scorer
from app.core.providers.base import Message, Sampling
from app.core.routing.ensemble import EnsembleRun, choose, similarity
from app.core.session import open_session
from tests.conftest import config_text, write_user_config
from tests.fakes import ScriptedProvider

QUESTION = [Message("user", "What is the capital of France?")]


def answers(*texts: str, confidence: float | None = 0.5) -> list[Attempt]:
    return [Attempt("ensemble", f"m{i}", "local", text=t, confidence=confidence) for i, t in enumerate(texts)]


def test_the_majority_answer_wins():
    vote = choose(answers("Paris.", "It is Lyon.", "Paris."))
    assert vote is not None and vote.index == 0 and vote.agreement == pytest.approx(0.5)


def test_a_tie_goes_to_the_more_confident_answer_then_the_earlier_one():
    tied = answers("Paris.", "Lyon.")
    tied[1].confidence = 0.9
    assert choose(tied).index == 1
    assert choose(answers("Paris.", "Lyon.")).index == 0


def test_failed_and_empty_answers_do_not_vote():
    votes = answers("Lyon.", "", "Paris.")
    votes[0].error = "connection refused"
    vote = choose(votes)
    assert vote is not None and vote.index == 2 and vote.agreement is None
    assert choose(answers("", "  ")) is None


def test_similarity_is_word_overlap():
    assert similarity("The capital is Paris", "paris is the capital!") == 1.0
    assert similarity("Paris", "Lyon") == 0.0


def run(providers, samples=1, weight=0.5):
    ensemble = EnsembleRun(
        providers, samples=samples, temperature=0.8, agreement_weight=weight, scorer=Scorer(0.6), max_answer_tokens=32
    )
    return next(e.answer for e in ensemble.run(lambda _: QUESTION) if isinstance(e, Finished))


def test_agreement_raises_confidence_and_disagreement_lowers_it():
    agreeing = run([ScriptedProvider("a", "Paris.", 0.4), ScriptedProvider("b", "Paris.", 0.4)])
    split = run([ScriptedProvider("a", "Paris.", 0.4), ScriptedProvider("b", "Lyon.", 0.4)])
    assert agreeing.confidence == pytest.approx(0.5 * 1.0 + 0.5 * 0.4)
    assert split.confidence == pytest.approx(0.5 * 0.0 + 0.5 * 0.4)
    assert agreeing.warning is None and split.warning is not None
    assert "agrees most with the others" in agreeing.reason and len(agreeing.attempts) == 2


def test_several_samples_of_one_model_use_different_seeds():
    model = ScriptedProvider("a", ["Paris.", "Paris.", "Lyon."], 0.7)
    answer = run([model], samples=3)
    assert answer.text == "Paris." and model.calls == 3
    assert {s.seed for s in model.samplings} == {7919, 7920, 7921}
    assert all(isinstance(s, Sampling) and s.temperature == 0.8 for s in model.samplings)


def test_ensemble_mode_with_the_real_model_stores_every_sample(hearth_home: Path, model_file: Path):
    text = config_text(model_file).replace("[settings]\n", '[settings]\nmode = "ensemble"\n')
    write_user_config(hearth_home, text + "\n[ensemble]\nsamples = 3\ntemperature = 0.9\n")
    session = open_session()
    try:
        events = list(session.chat.send(None, "Name a colour of the rainbow."))
        store = session.open_store()
        try:
            answer_id = events[0].answer_id
            attempts = store.attempts(answer_id)
            message = store.message(answer_id)
        finally:
            store.close()
    finally:
        session.close()
    answer = next(e.answer for e in events if isinstance(e, Finished))
    assert answer.tier == "ensemble" and len(attempts) == 3
    assert message.content == answer.text and answer.text in [a.text for a in attempts]
    assert 0.0 <= answer.confidence <= 1.0
