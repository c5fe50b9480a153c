"""Confidence v1: one number in [0, 1] from the answer's own token probabilities."""

from __future__ import annotations

import math

from app.core.confidence import score, signals_from


def lp(*probabilities: float) -> list[float]:
    return [math.log(p) for p in probabilities]


def test_a_sure_answer_scores_higher_than_a_guessed_one():
    sure = score(signals_from(lp(0.99, 0.95, 0.97, 0.98, 0.96), "stop"))
    guessed = score(signals_from(lp(0.99, 0.2, 0.15, 0.98, 0.3), "stop"))
    assert sure is not None and guessed is not None
    assert 0.0 <= guessed < sure <= 1.0


def test_length_alone_does_not_lower_the_score():
    short = score(signals_from(lp(*[0.9] * 5), "stop"))
    long = score(signals_from(lp(*[0.9] * 500), "stop"))
    assert short is not None and long is not None
    assert abs(short - long) < 1e-9  # a sum of logprobs would fall 100-fold


def test_one_guessed_token_in_a_long_answer_is_not_averaged_away():
    answer = [0.99] * 18 + [0.05, 0.06]
    signals = signals_from(lp(*answer), "stop")
    assert signals is not None
    assert score(signals) < 0.5 < math.exp(signals.mean_logprob)


def test_no_token_probabilities_means_no_score():
    assert signals_from([], "stop") is None
    assert score(None) is None


def test_the_signals_are_kept_for_calibration():
    signals = signals_from(lp(0.5, 0.25, 1.0), "length")
    assert signals is not None
    data = signals.as_dict()
    assert data["n_tokens"] == 3
    assert data["min_logprob"] == math.log(0.25)
    assert data["finish_reason"] == "length"
    assert {"mean_logprob", "q05_prob", "q10_prob", "q25_prob", "median_prob"} <= data.keys()
