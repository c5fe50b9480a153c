"""Calibrated confidence: fitted per model, stored versioned, used by the cascade's scorer."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from app.core.confidence.calibration import FORMAT_VERSION, Scorer, fit, load, save
from app.core.confidence.signals import default_score, signals_from


def labelled(n: int = 200, seed: int = 3):
    """Answers whose correctness depends on their weakest token, as with real models."""
    rng = np.random.default_rng(seed)
    signals, correct = [], []
    for _ in range(n):
        weakest = rng.uniform(0.01, 0.99)
        probabilities = [min(0.999, weakest + rng.uniform(0, 0.5)) for _ in range(9)] + [weakest]
        signals.append(
            signals_from("What is 2+2?", "It is 4.", [math.log(p) for p in probabilities], [0.5] * 10, "stop")
        )
        correct.append(bool(rng.uniform() < weakest))
    return signals, correct


def test_a_fitted_model_ranks_right_answers_above_wrong_ones():
    signals, correct = labelled()
    calibration = fit("smol", signals, correct)
    scores = [calibration.probability(s) for s in signals]
    right = np.mean([s for s, c in zip(scores, correct, strict=True) if c])
    wrong = np.mean([s for s, c in zip(scores, correct, strict=True) if not c])
    assert right > wrong + 0.15
    assert all(0.0 < s < 1.0 for s in scores)
    assert abs(np.mean(scores) - np.mean(correct)) < 0.05  # calibrated on average


def test_the_fit_is_saved_versioned_and_read_back(tmp_path: Path):
    signals, correct = labelled()
    calibration = fit("smol/2", signals, correct).model_copy(update={"threshold": 0.42, "target": "rate=0.3"})
    path = save(calibration, tmp_path)
    assert json.loads(path.read_text())["version"] == FORMAT_VERSION
    again = load(tmp_path, "smol/2")
    assert again == calibration
    assert again.probability(signals[0]) == pytest.approx(calibration.probability(signals[0]))


def test_a_fit_from_another_format_version_is_ignored(tmp_path: Path):
    signals, correct = labelled()
    path = save(fit("smol", signals, correct), tmp_path)
    data = json.loads(path.read_text())
    data["version"] = FORMAT_VERSION + 1
    path.write_text(json.dumps(data))
    assert load(tmp_path, "smol") is None


def test_the_scorer_uses_a_fit_where_there_is_one_and_the_default_elsewhere(tmp_path: Path):
    signals, correct = labelled()
    save(fit("smol", signals, correct).model_copy(update={"threshold": 0.6}), tmp_path)
    scorer = Scorer.from_folder(tmp_path, ["smol", "other"], default_threshold=0.3)
    assert scorer.calibrated("smol") and not scorer.calibrated("other")
    assert scorer.threshold("smol") == 0.6 and scorer.threshold("other") == 0.3
    assert scorer.score("other", signals[0]) == default_score(signals[0])
    assert scorer.score("smol", signals[0]) != default_score(signals[0])


def test_too_few_labelled_answers_are_refused():
    signals, correct = labelled(5)
    with pytest.raises(ValueError, match="at least 10"):
        fit("smol", signals, correct)
