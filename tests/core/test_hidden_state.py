"""The extra model step that reads the final hidden state runs only where a fit's probe reads it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.core.answers import Finished
from app.core.confidence.calibration import Scorer, fit
from app.core.confidence.signals import signals_from
from app.core.config.schema import Privacy
from app.core.providers.base import Message, Sampling
from app.core.providers.llama_cpp import LlamaCppProvider
from app.core.routing.cascade import Cascade, TierPlan
from app.core.storage.store import Store
from tests.conftest import passage_out

QUESTION = [Message("user", "What is 2 plus 2?")]


@pytest.fixture
def provider(smol_provider: LlamaCppProvider) -> LlamaCppProvider:
    return smol_provider


def last_chunk_hidden(provider: LlamaCppProvider, sampling: Sampling | None) -> tuple[float, ...]:
    return [chunk for chunk in provider.stream(QUESTION, max_tokens=8, sampling=sampling)][-1].hidden


def test_the_hidden_state_is_read_only_when_asked_for(provider: LlamaCppProvider):
    assert last_chunk_hidden(provider, None) == ()
    assert last_chunk_hidden(provider, Sampling(temperature=0.0)) == ()
    hidden = last_chunk_hidden(provider, Sampling(hidden_state=True))
    assert len(hidden) == provider._load_locked().n_embd() and any(value != 0.0 for value in hidden)


def probe_fit(width: int):
    rng = np.random.default_rng(1)
    flat = [signals_from("What is 2+2?", "It is 4.", [math.log(0.6)] * 5, [0.5] * 5, "stop")] * 60
    correct = (rng.uniform(size=60) < 0.5).tolist()
    return fit("smol", flat, correct, hidden=rng.normal(size=(60, width)).tolist(), features=("probe_logit",))


def answer(provider: LlamaCppProvider, scorer: Scorer, store: Store):
    cascade = Cascade(
        [TierPlan("local", [provider])],
        scorer=scorer,
        passage=passage_out(store, Privacy.LOCAL_ONLY),
        max_answer_tokens=8,
    )
    return next(e.answer for e in cascade.run(lambda _: QUESTION) if isinstance(e, Finished)).attempts[-1]


def test_an_answer_takes_the_extra_step_only_for_a_fit_with_a_probe(provider: LlamaCppProvider, store: Store):
    without = fit("smol", *plain_labels())
    assert not without.reads_hidden_state
    attempt = answer(provider, Scorer(0.5, {"smol": without}), store)
    assert attempt.hidden == () and attempt.signals["probe"] is None and attempt.confidence is not None

    with_probe = probe_fit(provider._load_locked().n_embd())
    assert with_probe.reads_hidden_state
    attempt = answer(provider, Scorer(0.5, {"smol": with_probe}), store)
    assert len(attempt.hidden) == len(with_probe.probe.weights) and attempt.signals["probe"] is not None

    # Fitting a probe needs the states of answers that no probe reads yet.
    attempt = answer(provider, Scorer(0.5, collect_hidden_states=True), store)
    assert attempt.hidden


def plain_labels():
    rng = np.random.default_rng(2)
    weakest = rng.uniform(0.05, 0.95, size=40)
    signals = [signals_from("What is 2+2?", "It is 4.", [math.log(p)] * 3, [0.5] * 3, "stop") for p in weakest]
    return signals, (rng.uniform(size=40) < weakest).tolist()
