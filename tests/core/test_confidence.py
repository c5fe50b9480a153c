"""Confidence: signals from the answer's own token probabilities and text, and the uncalibrated score."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.core.confidence import answer_checks
from app.core.confidence.answer_span import span_mask
from app.core.confidence.signals import Signals, TokenTrace, default_score, signals_from
from app.core.providers.base import Chunk
from app.core.providers.logprobs import token_stats, top_k_entropy, top_k_margin

QUESTION = "What is the capital of France?"


def lp(*probabilities: float) -> list[float]:
    return [math.log(p) for p in probabilities]


def score(probabilities: list[float], answer: str = "The capital of France is Paris.", finish: str = "stop"):
    return default_score(signals_from(QUESTION, answer, lp(*probabilities), [], finish))


def test_a_sure_answer_scores_higher_than_a_guessed_one():
    sure = score([0.99, 0.95, 0.97, 0.98, 0.96])
    guessed = score([0.99, 0.2, 0.15, 0.98, 0.3])
    assert 0.0 <= guessed < sure <= 1.0


def test_length_alone_does_not_lower_the_score():
    assert score([0.9] * 5) == pytest.approx(score([0.9] * 500))  # a sum of logprobs would fall 100-fold


COPLAND = "What is the genre of Aaron Copland's music?"
COPLAND_TOKENS = ["The", " genre", " of", " Aaron", " Cop", "land", "'s", " music", " is", " op", "era", "."]


def test_the_answer_span_is_the_words_that_answer_not_the_restated_question():
    mask = span_mask(COPLAND_TOKENS, COPLAND)
    assert [t for t, on in zip(COPLAND_TOKENS, mask, strict=True) if on] == [" op", "era"]
    assert span_mask(["80", " +", " 29", " =", " 109"], "What is 80 plus 29?") == [False] * 4 + [True]


def test_a_guessed_answer_word_is_not_averaged_away_by_a_sure_restatement():
    probabilities = [0.99] * 9 + [0.2, 0.9, 0.99]  # sure of everything but "op|era"
    signals = signals_from(COPLAND, "".join(COPLAND_TOKENS), lp(*probabilities), [], "stop", (), COPLAND_TOKENS)
    assert signals.span_tokens == 2
    assert signals.span_mean_logprob == pytest.approx((math.log(0.2) + math.log(0.9)) / 2)
    assert signals.span_first_logprob == pytest.approx(math.log(0.2))
    assert default_score(signals) == pytest.approx(0.2)  # the answer's least likely token
    assert default_score(signals) < 0.5 < math.exp(signals.mean_logprob)
    # The same doubt in a filler word ("of") costs far less: the model was sure of the answer.
    filler_doubt = [0.99, 0.99, 0.2] + [0.99] * 9
    filler = signals_from(COPLAND, "".join(COPLAND_TOKENS), lp(*filler_doubt), [], "stop", (), COPLAND_TOKENS)
    assert default_score(filler) > 0.9


def test_without_token_texts_the_span_is_the_whole_answer():
    signals = signals_from(QUESTION, "Paris.", lp(0.5, 0.8), [0.1, 0.3], "stop")
    assert signals.span_tokens == 2 and signals.span_mean_logprob == signals.mean_logprob


def test_a_trace_gathers_what_the_chunks_say():
    trace = TokenTrace()
    trace.add(Chunk("Par", (-0.1,), (0.2,), (3.0,), ("Par",)))
    trace.add(Chunk("is", (-0.3,), (0.4,), (1.0,), ("is",)))
    trace.add(Chunk("", hidden=(0.5, -0.5), end_logprob=-0.5, finish_reason="stop"))
    signals = trace.signals(QUESTION, "Paris", "stop")
    assert signals.n_tokens == 2 and signals.min_margin == 1.0 and signals.mean_margin == 2.0
    assert signals.end_logprob == -0.5 and signals.mean_logprob == pytest.approx(-0.2)  # the end is apart
    assert signals.max_entropy == pytest.approx(0.4) and trace.hidden == (0.5, -0.5)
    assert signals.span_tokens == 2  # "Par" + "is" is one word, and it answers


def test_signals_stored_before_the_new_ones_read_back():
    old = signals_from(QUESTION, "Paris.", lp(0.5), [0.1], "stop").as_dict()
    for key in ("sum_logprob", "max_entropy", "mean_margin", "span_mean_logprob", "probe"):
        del old[key]
    again = Signals.from_dict({**old, "from_a_newer_version": 1.0})
    assert again.mean_logprob == math.log(0.5) and again.span_mean_logprob is None and again.probe is None


def test_no_token_probabilities_means_no_score():
    signals = signals_from(QUESTION, "Paris.", [], [], "stop")
    assert not signals.has_token_probabilities and default_score(signals) is None


@pytest.mark.parametrize(
    "answer, finish, check",
    [
        ("I'm not sure, but it might be Lyon.", "stop", "hedge"),
        ("I cannot help with that request.", "stop", "refusal"),
        ("The capital of France is a city that", "length", "truncated"),
        ("la femme au martyre, la femme au martyre, la femme au martyre, la femme au martyre", "stop", "looping"),
        ("L'Allemaier de France, la femme de France est la maire de la ville", "stop", "language_mismatch"),
    ],
)
def test_each_warning_sign_lowers_the_score(answer: str, finish: str, check: str):
    probabilities = [0.8] * 12
    assert score(probabilities, answer, finish) < score(probabilities)


def test_an_empty_answer_scores_zero():
    assert score([0.99, 0.99], answer=" . ") == 0.0


def test_the_signals_are_kept_for_calibration():
    signals = signals_from(QUESTION, "Paris.", lp(0.5, 0.25, 1.0), [0.1, 0.2, 0.3], "length")
    data = signals.as_dict()
    assert data["n_tokens"] == 3 and data["min_logprob"] == math.log(0.25)
    assert data["mean_entropy"] == pytest.approx(0.2) and data["truncated"] is True
    assert {
        "mean_logprob",
        "q05_prob",
        "q10_prob",
        "q25_prob",
        "median_prob",
        "hedge",
        "refusal",
        "repetition",
        "empty",
        "language_mismatch",
    } <= data.keys()


def test_token_stats_equal_a_direct_softmax():
    rng = np.random.default_rng(7)
    logits = (rng.normal(size=49152) * 4).astype(np.float32)
    logprob, entropy, margin = token_stats(logits, 123)
    p = np.exp(logits.astype(np.float64) - logits.max())
    p /= p.sum()
    assert logprob == pytest.approx(math.log(p[123]), abs=1e-5)
    assert entropy == pytest.approx(-(p * np.log(p)).sum(), abs=1e-4)
    top, second = np.sort(np.log(p))[-2:][::-1]
    assert margin == pytest.approx(top - second, abs=1e-4) and margin > 0


def test_top_k_entropy_is_highest_when_the_alternatives_are_even():
    assert top_k_entropy(lp(0.25, 0.25, 0.25, 0.25)) == pytest.approx(math.log(4))
    assert top_k_entropy(lp(0.97, 0.01, 0.01, 0.01)) < 0.2


def test_top_k_margin_is_the_lead_of_the_best_alternative():
    assert top_k_margin(lp(0.1, 0.6, 0.3)) == pytest.approx(math.log(2))
    assert top_k_margin(lp(1.0)) is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("What is the capital of France?", "en"),
        ("Quelle est la capitale de la France et pourquoi ?", "fr"),
        ("Wie spät ist es jetzt in Berlin?", "de"),
        ("¿Cuál es la capital de España y por qué?", "es"),
        ("Привет, как дела у тебя сегодня?", "cyrillic"),
        ("东京是日本的首都，也是最大的城市。", "zh"),
        ("Paris", None),
    ],
)
def test_the_language_of_a_question_or_answer(text: str, expected: str | None):
    assert answer_checks.language(text) == expected


def test_a_short_factual_answer_is_not_empty_or_mismatched():
    assert not answer_checks.is_empty("Paris.")
    assert not answer_checks.language_mismatch(QUESTION, "Paris.")
