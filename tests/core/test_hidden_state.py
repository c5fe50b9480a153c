"""The hidden state a fit's probe reads: the model's final state averaged over the answer, read only
where a fit's probe reads it."""

from __future__ import annotations

import math
from pathlib import Path

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


def states_read_in_one_pass(model_file: Path, tokens: list[int]) -> np.ndarray:
    """The final hidden state at every position, from another copy of the model reading all tokens at once."""
    import llama_cpp

    llm = llama_cpp.Llama(model_path=str(model_file), n_ctx=512, logits_all=True, embedding=True, verbose=False)
    try:
        llm.eval(tokens)
        width = llm.n_embd()
        rows = (llama_cpp.llama_get_embeddings_ith(llm.ctx, i) for i in range(len(tokens)))
        return np.asarray([np.ctypeslib.as_array(row, shape=(width,)) for row in rows])
    finally:
        llm.close()


def test_the_probe_reads_the_answer_as_a_whole_and_not_the_question(provider: LlamaCppProvider, model_file: Path):
    chunks = list(provider.stream(QUESTION, max_tokens=8, sampling=Sampling(temperature=0.0, hidden_state=True)))
    llm = provider._load_locked()
    read = llm.input_ids[: llm.n_tokens].tolist()  # the prompt and the answer, its last token taken in too
    prompt = chunks[-1].usage.prompt_tokens
    assert len(read) > prompt + 1
    states = states_read_in_one_pass(model_file, read)

    def cosine(a: np.ndarray, b: np.ndarray) -> float:
        return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))

    hidden = np.asarray(chunks[-1].hidden)
    answer_mean, last, with_question = states[prompt:].mean(axis=0), states[-1], states.mean(axis=0)
    assert cosine(hidden, answer_mean) > 0.999
    assert cosine(hidden, answer_mean) > max(cosine(hidden, last), cosine(hidden, with_question)) + 0.01


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
