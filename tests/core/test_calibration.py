"""Calibrated confidence: fitted per model, stored versioned, used by the cascade's scorer."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from app.core.confidence.calibration import (
    DEFAULT_FEATURES,
    FORMAT_VERSION,
    SHIPPED,
    Scorer,
    fit,
    load,
    read,
    save,
    shipped,
)
from app.core.confidence.metrics import auroc
from app.core.confidence.signals import TokenTrace, default_score, signals_from
from app.core.config.load import default_config_file, load_config_file
from app.core.config.schema import LocalModel
from app.core.errors import InvalidInput


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
    save(fit("home-server", signals, correct).model_copy(update={"threshold": 0.6}), tmp_path)
    config = load_config_file(default_config_file())
    other = config.models["smollm2-135m"].model_copy(update={"file": "other.gguf", "sha256": None})
    config = config.model_copy(update={"models": {**config.models, "home-server": other}})
    scorer = Scorer.for_config(config, tmp_path, shipped_folder=tmp_path / "none")
    assert scorer.calibrated("home-server") and not scorer.calibrated("smollm2-135m")
    assert scorer.threshold("home-server") == 0.6 and scorer.threshold("smollm2-135m") == config.settings.threshold
    assert scorer.score("smollm2-135m", signals[0]) == default_score(signals[0])
    assert scorer.score("home-server", signals[0]) != default_score(signals[0])


def test_a_fit_that_reads_unknown_signals_is_ignored(tmp_path: Path):
    signals, correct = labelled()
    path = save(fit("smol", signals, correct), tmp_path)
    data = json.loads(path.read_text())
    data["features"][0] = "a_signal_from_the_future"
    path.write_text(json.dumps(data))
    assert load(tmp_path, "smol") is None
    path.write_text("{broken")
    assert load(tmp_path, "smol") is None


def states(n: int, seed: int = 5) -> tuple[list[list[float]], list[bool]]:
    """Hidden states in which one direction tells right answers from wrong ones."""
    rng = np.random.default_rng(seed)
    right = rng.uniform(size=n) < 0.4
    x = rng.normal(size=(n, 64))
    x[:, 3] += np.where(right, 1.5, -1.5)
    return x.tolist(), right.tolist()


def test_a_probe_on_the_hidden_state_finds_what_the_token_probabilities_miss():
    hidden, correct = states(400)
    flat = [signals_from("What is 2+2?", "It is 4.", [math.log(0.6)] * 5, [0.5] * 5, "stop")] * 400
    calibration = fit("smol", flat, correct, hidden=hidden, features=("mean_logprob", "probe_logit"))
    assert calibration.probe is not None and "probe_logit" in calibration.features
    new_hidden, new_correct = states(200, seed=6)
    scores = [calibration.probability(calibration.complete(flat[0], h)) for h in new_hidden]
    right = np.mean([s for s, c in zip(scores, new_correct, strict=True) if c])
    wrong = np.mean([s for s, c in zip(scores, new_correct, strict=True) if not c])
    assert right > wrong + 0.3
    # An answer that came without a hidden state gets the documented default, not a guess.
    assert Scorer(0.3, {"smol": calibration}).score("smol", flat[0]) == default_score(flat[0])
    trace = TokenTrace()
    trace.hidden = tuple(new_hidden[0])
    assert Scorer(0.3, {"smol": calibration}).complete("smol", flat[0], trace).probe is not None


def test_a_new_probe_does_not_score_readings_an_older_probe_made():
    hidden, correct = states(200)
    flat = [signals_from("What is 2+2?", "It is 4.", [math.log(0.6)] * 5, [0.5] * 5, "stop")] * 200
    older = fit("smol", flat, correct, hidden=hidden, features=("mean_logprob", "probe_logit"))
    newer_hidden, newer_correct = states(200, seed=7)
    newer = fit("smol", flat, newer_correct, hidden=newer_hidden, features=("mean_logprob", "probe_logit"))
    assert older.probe != newer.probe
    stored = older.complete(flat[0], hidden[0])  # kept with an answer given before the newer probe shipped
    assert older.probability(stored) is not None
    assert newer.probability(stored) is None
    assert newer.probability(newer.complete(flat[0], hidden[0])) is not None


def shipped_models() -> list[tuple[str, LocalModel]]:
    config = load_config_file(default_config_file())
    return [(m, model) for m, model in config.models.items() if isinstance(model, LocalModel)]


def test_hearth_ships_a_fit_for_its_default_model_and_the_app_uses_it(tmp_path: Path):
    config = load_config_file(default_config_file())
    default = config.tiers[0].models[0]
    scorer = Scorer.for_config(config, tmp_path)  # no fit of the user's own
    assert scorer.calibrated(default)
    calibration = scorer.calibrations[default]
    assert calibration.source == "shipped" and calibration.model_sha256 == config.models[default].sha256
    assert calibration.features == DEFAULT_FEATURES
    # Fitted on the calibration halves, reported on the disjoint evaluation halves.
    assert all(name.endswith("_calibrate.jsonl") for name in calibration.fitted_on)
    assert calibration.held_out and all(name.endswith("_eval.jsonl") for name in calibration.held_out)
    assert all(numbers["items"] >= 10 and 0 <= numbers["auroc"] <= 1 for numbers in calibration.held_out.values())
    # The same weights under another name, or named by file only, get the same fit.
    model = config.models[default]
    assert isinstance(model, LocalModel)
    assert shipped(model.model_copy(update={"sha256": None})) == calibration
    assert shipped(model.model_copy(update={"sha256": "0" * 64})) is None


def test_every_shipped_fit_loads():
    files = sorted(SHIPPED.glob("*.json"))
    assert files
    for path in files:
        calibration = read(path)
        assert calibration is not None, path
        assert calibration.examples >= 30 and calibration.model_sha256 and calibration.model_file


def test_too_few_labelled_answers_are_refused():
    signals, correct = labelled(5)
    with pytest.raises(InvalidInput, match="at least 10"):
        fit("smol", signals, correct)


def kinds_of_question(n: int, kinds: int, seed: int) -> tuple[list, list[list[float]], list[bool], list[str]]:
    """Answers of several kinds of question: the hidden state says which kind, each kind is right at its own
    rate, and within a kind the weakest token tells right from wrong."""
    rng = np.random.default_rng(seed)
    offsets, rates = rng.normal(scale=0.5, size=(kinds, 64)), rng.uniform(-2.5, 2.5, size=kinds)
    signals, hidden, correct, names = [], [], [], []
    for _ in range(n):
        kind = int(rng.integers(kinds))
        weakest = rng.uniform(0.01, 0.99)
        probabilities = [min(0.999, weakest + rng.uniform(0, 0.5)) for _ in range(4)] + [weakest]
        signals.append(signals_from("Which one?", "That one.", [math.log(p) for p in probabilities], [0.5] * 5, "stop"))
        hidden.append((rng.normal(size=64) + offsets[kind]).tolist())
        correct.append(bool(rng.uniform() < 1 / (1 + math.exp(-(rates[kind] + 6 * (weakest - 0.5))))))
        names.append(f"kind {kind}")
    return signals, hidden, correct, names


def test_the_probe_is_trusted_less_when_it_has_to_hold_on_kinds_of_question_it_never_saw():
    signals, hidden, correct, kinds = kinds_of_question(600, kinds=10, seed=11)
    features = ("probe_logit", "span_min_logprob")
    by_answer = fit("smol", signals, correct, hidden=hidden, features=features)
    by_kind = fit("smol", signals, correct, hidden=hidden, features=features, kinds=kinds)
    trust = {
        name: made.logistic.weights[0] / made.logistic.weights[1]
        for name, made in (("answer", by_answer), ("kind", by_kind))
    }
    assert trust["kind"] < trust["answer"] / 2
    # On kinds neither fit saw, the one that learned how far the probe holds there ranks their answers better.
    new_signals, new_hidden, new_correct, _ = kinds_of_question(300, kinds=3, seed=12)
    ranked = {
        name: auroc(
            [made.probability(made.complete(s, h)) for s, h in zip(new_signals, new_hidden, strict=True)], new_correct
        )
        for name, made in (("answer", by_answer), ("kind", by_kind))
    }
    assert ranked["kind"] > ranked["answer"]


def test_with_too_few_kinds_to_fold_by_the_probe_is_read_out_of_fold_by_answer():
    signals, hidden, correct, _ = kinds_of_question(300, kinds=4, seed=13)
    assert (
        fit("smol", signals, correct, hidden=hidden, kinds=["only kind"] * 300).logistic
        == fit("smol", signals, correct, hidden=hidden).logistic
    )
