"""Learning from the user's verdicts: labels kept locally, a refit that is never worse than the shipped fit."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from app.core.answers import Attempt
from app.core.confidence.calibration import Scorer, calibration_file, fit, load, save
from app.core.confidence.signals import signals_from
from app.core.config.load import default_config_file, load_config_file
from app.core.config.schema import LocalModel
from app.core.conversation.learning import labels
from app.core.conversation.learning.held_out import held_out_folder, held_out_rows, load_held_out
from app.core.conversation.learning.labels import Verdict
from app.core.conversation.learning.learner import Learner, LearningStatus
from app.core.conversation.learning.refit import MIN_EACH, MIN_LABELS, refit
from app.core.storage.store import Store

MODEL = "smollm2-135m"


def answer_signals(weakest: float, n: int = 6):
    probabilities = [0.95] * (n - 1) + [weakest]
    return signals_from("Who wrote it?", "Tolkien.", [math.log(p) for p in probabilities], [0.4] * n, "stop")


def answered(store: Store, weakest: float | None, model: str = MODEL, text: str = "Tolkien.") -> int:
    """A stored question and answer; ``weakest`` is the answer's least likely token (None: no probabilities)."""
    conversation = store.create_conversation()
    store.add_message(conversation, "user", "Who wrote it?")
    answer = store.add_message(conversation, "assistant", text)
    attempt = Attempt("local", model, "local", text=text)
    attempt.signals = (
        answer_signals(weakest) if weakest is not None else signals_from("q", text, [], [], "stop")
    ).as_dict()
    store.add_attempts(answer, [attempt])
    return answer


def simulated(n: int, seed: int = 4, agree: bool = True) -> list[tuple[float, bool]]:
    """Answers whose chance of being right rises with their weakest token (or falls, if not ``agree``)."""
    rng = np.random.default_rng(seed)
    weakest = rng.uniform(0.02, 0.98, size=n)
    right = rng.uniform(size=n) < (weakest if agree else 1 - weakest)
    return list(zip(weakest.tolist(), right.tolist(), strict=True))


@pytest.fixture
def shipped_folder(tmp_path: Path) -> Path:
    """A shipped fit for the bundled model's weights, and its held-out answers."""
    config = load_config_file(default_config_file())
    model = config.models[MODEL]
    assert isinstance(model, LocalModel)
    train, test = simulated(200, seed=1), simulated(200, seed=2)
    shipped = fit(MODEL, [answer_signals(w) for w, _ in train], [c for _, c in train]).model_copy(
        update={"source": "shipped", "model_sha256": model.sha256}
    )
    folder = tmp_path / "shipped"
    save(shipped, folder)
    rows = held_out_rows(shipped, [answer_signals(w) for w, _ in test], [c for _, c in test], ["test"])
    held_out_folder(folder).mkdir()
    calibration_file(held_out_folder(folder), MODEL).write_text(rows.model_dump_json())
    return folder


def test_a_verdict_labels_the_answer_on_show_and_a_later_one_replaces_it(store: Store):
    conversation = store.create_conversation()
    store.add_message(conversation, "user", "Who wrote it?")
    message = store.add_message(conversation, "assistant", "Tolkien.")
    local, server = (
        Attempt("local", MODEL, "local", text="Lewis."),
        Attempt("server", "big", "self-hosted", text="Tolkien."),
    )
    local.signals, server.signals = answer_signals(0.2).as_dict(), answer_signals(0.9).as_dict()
    store.add_attempts(message, [local, server])

    assert labels.label_shown(store, message, Verdict.GOOD) == "big"
    assert labels.label_shown(store, message, Verdict.WRONG) == "big"
    assert labels.count(store, "big") == 1 and labels.count(store, MODEL) == 0
    [label] = labels.labels(store, "big")
    assert not label.correct and label.verdict is Verdict.WRONG
    assert label.signals.span_min_logprob == pytest.approx(math.log(0.9))


def test_an_answer_without_token_probabilities_teaches_nothing(store: Store):
    message = answered(store, None)
    assert labels.label_shown(store, message, Verdict.GOOD) is None and labels.count(store, MODEL) == 0


def test_deleting_a_conversation_deletes_its_labels(store: Store):
    message = answered(store, 0.5)
    labels.label_shown(store, message, Verdict.GOOD)
    store.delete_conversation(store.message(message).conversation_id)
    assert labels.count(store, MODEL) == 0


def as_labels(answers: list[tuple[float, bool]]) -> list[labels.Label]:
    verdict = {True: Verdict.GOOD, False: Verdict.WRONG}
    return [labels.Label(MODEL, answer_signals(w), c, verdict[c]) for w, c in answers]


def test_no_refit_before_enough_verdicts_of_each_kind():
    few = as_labels(simulated(MIN_LABELS - 1))
    assert refit(MODEL, few, None, None).calibration is None
    one_sided = as_labels([(w, True) for w, _ in simulated(100)][: -MIN_EACH + 1] + [(0.1, False)] * (MIN_EACH - 1))
    assert refit(MODEL, one_sided, None, None).calibration is None
    assert refit(MODEL, as_labels(simulated(MIN_LABELS + 10)), None, None).calibration is not None


def test_a_refit_that_ranks_the_shipped_sets_worse_than_the_shipped_fit_is_not_kept(shipped_folder: Path):
    shipped, held_out = load(shipped_folder, MODEL), load_held_out(MODEL, shipped_folder)
    assert shipped is not None and held_out is not None and held_out.auroc(shipped) > 0.7
    contrary = refit(MODEL, as_labels(simulated(60, agree=False)), shipped, held_out)
    assert contrary.calibration is None and "below the fit in use" in contrary.why
    agreeing = refit(MODEL, as_labels(simulated(60)), shipped, held_out)
    assert agreeing.calibration is not None and agreeing.calibration.source == "verdicts"
    assert held_out.auroc(agreeing.calibration) >= held_out.auroc(shipped)


def test_a_few_dozen_verdicts_rescale_the_shipped_fit_to_how_often_this_user_finds_it_right(shipped_folder: Path):
    """The shipped fit reads several signals; a few dozen verdicts refit only its scale and offset,
    so the ranking stays the shipped one and the numbers come to mean what the user's verdicts say."""
    shipped, held_out = load(shipped_folder, MODEL), load_held_out(MODEL, shipped_folder)
    assert shipped is not None and held_out is not None and len(shipped.features) > 1
    rng = np.random.default_rng(7)
    weakest = rng.uniform(0.02, 0.98, size=2 * MIN_LABELS)
    harsher = rng.uniform(size=len(weakest)) < weakest / 2  # this user finds it right half as often
    verdicts = as_labels(list(zip(weakest.tolist(), harsher.tolist(), strict=True)))
    result = refit(MODEL, verdicts, shipped, held_out)
    assert result.calibration is not None and result.calibration.features == shipped.features
    assert held_out.auroc(result.calibration) == pytest.approx(held_out.auroc(shipped))
    before = np.mean([shipped.probability(label.signals) for label in verdicts])
    after = np.mean([result.calibration.probability(label.signals) for label in verdicts])
    assert after < before - 0.15 and abs(after - np.mean(harsher)) < 0.1


def test_a_fit_that_reads_the_hidden_state_learns_only_from_answers_that_carried_it():
    rng = np.random.default_rng(3)
    answers = simulated(120, seed=5)
    states = [[float(c) + rng.normal(), rng.normal()] for _, c in answers]
    shipped = fit(
        MODEL,
        [answer_signals(w) for w, _ in answers],
        [c for _, c in answers],
        hidden=states,
        features=("probe_logit", "span_min_logprob"),
    )
    assert shipped.reads_hidden_state
    without = as_labels(simulated(60, seed=6))  # answered before the probe was shipped: no reading
    assert refit(MODEL, without, shipped, None).calibration is None
    read = [
        labels.Label(MODEL, shipped.complete(label.signals, state), label.correct, label.verdict)
        for label, state in zip(without, states, strict=False)
    ]
    result = refit(MODEL, read, shipped, None)
    assert result.calibration is not None and result.calibration.probe == shipped.probe


def test_verdicts_refit_the_model_in_the_background_and_a_reset_forgets_them(shipped_folder: Path, tmp_path: Path):
    config = load_config_file(default_config_file())
    database = tmp_path / "hearth.db"
    scorer = Scorer.for_config(config, tmp_path / "user", shipped_folder=shipped_folder)
    shipped = scorer.calibrations[MODEL]
    learner = Learner(config, scorer, tmp_path / "user", lambda: Store(database), shipped_folder)
    store = Store(database)
    try:
        status = learner.status(store, MODEL)
        assert status.calibrated_on is None and "fitted on 200 test answers" in status.describe()
        # The user finds this model right less often than the tests did.
        for weakest, right in simulated(MIN_LABELS + 5, seed=9):
            learner.rate(store, answered(store, weakest * 0.5), good=right and weakest > 0.3)
        for future in learner.background.submitted:
            future.result(timeout=60)
        status = learner.status(store, MODEL)
        # The refit started at MIN_LABELS covers whatever verdicts had arrived by the time it ran.
        assert status.labels == MIN_LABELS + 5 and MIN_LABELS <= (status.calibrated_on or 0) <= MIN_LABELS + 5
        assert f"Calibrated on {status.calibrated_on} of your answers ({MIN_LABELS + 5} verdicts" in status.describe()
        refitted = scorer.calibrations[MODEL]
        assert refitted.source == "verdicts" and refitted is not shipped
        assert store.db["feedback"].count == MIN_LABELS + 5  # the statistics keep counting ratings

        learner.reset(store, MODEL)
        assert labels.count(store, MODEL) == 0 and not calibration_file(tmp_path / "user", MODEL).exists()
        assert scorer.calibrations[MODEL] == shipped
        assert learner.status(store, MODEL).calibrated_on is None
    finally:
        store.close()
        learner.close()


def test_settings_writes_large_counts_as_a_person_reads_them():
    shipped = LearningStatus("smollm2-135m", labels=1234, calibrated_on=None, own_fit=False, shipped_examples=2056)
    assert "fitted on 2,056 test answers); 1,234 of your verdicts" in shipped.describe()
    learnt = LearningStatus("smollm2-135m", labels=1234, calibrated_on=1200, own_fit=False, shipped_examples=2056)
    assert learnt.describe() == "Calibrated on 1,200 of your answers (1,234 verdicts kept on this computer)."
