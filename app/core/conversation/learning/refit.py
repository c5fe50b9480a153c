"""A model's calibration fitted again from the user's verdicts, never worse than the shipped one.

How many labels: the usual rule for a logistic regression that does not fit noise is about ten
answers of the rarer outcome per number it fits (Peduzzi et al., 1996). The first refit rescales
the shipped fit's score (``calibration.recalibrated``: a scale and an offset, whatever signals the
fit reads), so it needs ``MIN_LABELS`` verdicts of which at least ``MIN_EACH`` say right and
``MIN_EACH`` say wrong. A new top layer over the richer set of signals is tried only with ten of
each per signal it weighs. Below that the shipped fit stays.

Never worse: a refit must rank the shipped sets' held-out answers (``held_out``) at least as
well as the shipped fit does, by AUROC; one that does not is not kept. Where there are no such
answers (a model Hearth ships no fit for), a refit must rank the verdicts themselves (out of
fold) at least as well as what it would replace: the shipped fit or the documented default. A
rescaled fit keeps its ranking whenever the user's verdicts agree on the direction (a lower
score means less often right), and what changes is what the numbers mean: how often this user
finds the model right at each confidence, so the threshold escalates as often as their verdicts
say it should.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.core.confidence.calibration import RICHER_FEATURES, UNCALIBRATED_FEATURES, Calibration, fit, recalibrated
from app.core.confidence.metrics import auroc
from app.core.confidence.signals import Signals, default_score
from app.core.confidence.validation import Maker, out_of_fold
from app.core.conversation.learning.held_out import HeldOutAnswers
from app.core.conversation.learning.labels import Label

MIN_LABELS = 30
MIN_EACH = 10
PER_SIGNAL = 10
# A refit is run again once this many new verdicts have come in since the last one.
REFIT_EVERY = 10


@dataclass(frozen=True)
class Refit:
    calibration: Calibration | None  # None: the shipped fit stays
    why: str


def per_fold_auroc(scores: Sequence[float], correct: Sequence[bool], folds: int = 5) -> float:
    """AUROC within each of ``out_of_fold``'s folds, averaged: each fold's answers are ranked by one fit,
    so a fit of one signal ranks them exactly as that signal does."""
    values = []
    for fold in range(folds):
        value = auroc(list(scores[fold::folds]), list(correct[fold::folds]))
        if value is not None:
            values.append(value)
    return sum(values) / len(values) if values else 0.5


def enough(labels: Sequence[Label]) -> bool:
    right = sum(label.correct for label in labels)
    return len(labels) >= MIN_LABELS and min(right, len(labels) - right) >= MIN_EACH


def scored_by(shipped: Calibration | None, labels: Sequence[Label]) -> list[Label]:
    """The verdicts on answers the fit in use can score (one that reads the hidden-state probe cannot
    score an answer given without it)."""
    if shipped is None:
        return [label for label in labels if default_score(label.signals) is not None]
    return [label for label in labels if shipped.probability(label.signals) is not None]


def refit(
    model_id: str, labels: Sequence[Label], shipped: Calibration | None, held_out: HeldOutAnswers | None
) -> Refit:
    labels = scored_by(shipped, labels)
    right = sum(label.correct for label in labels)
    if not enough(labels):
        return Refit(
            None,
            f"{len(labels)} verdicts on scored answers ({right} right, {len(labels) - right} wrong): "
            f"a refit needs {MIN_LABELS}, with at least {MIN_EACH} of each",
        )
    signals = [label.signals for label in labels]
    correct = [label.correct for label in labels]
    probe = shipped.probe if shipped is not None else None

    def rescaled(s: list[Signals], c: list[bool], _: object) -> Calibration:
        if shipped is not None:
            return recalibrated(shipped, s, c)
        return fit(model_id, s, c, features=UNCALIBRATED_FEATURES)

    def top_layer(s: list[Signals], c: list[bool], _: object) -> Calibration:
        return fit(model_id, s, c, features=RICHER_FEATURES, probe=probe)

    candidates: list[Maker] = [rescaled]
    richer = [n for n in RICHER_FEATURES if n != "probe_logit" or probe is not None]
    if min(right, len(labels) - right) >= PER_SIGNAL * len(richer):
        candidates.append(top_layer)

    def out_of_fold_auroc(make: Maker) -> float:
        return per_fold_auroc([p or 0.0 for p in out_of_fold(signals, correct, make)], correct)

    ranked = sorted(candidates, key=out_of_fold_auroc, reverse=True) if len(candidates) > 1 else candidates
    floor = held_out.auroc(shipped) if held_out is not None and shipped is not None else None
    # Without held-out answers to check on, the refit must rank the verdicts (out of fold) as well as
    # what it replaces: the shipped fit, or the documented default score.
    replaced = [(shipped.probability(s) if shipped else default_score(s)) or 0.0 for s in signals]
    for make in ranked:
        candidate = make(signals, correct, None).model_copy(
            update={
                "source": "verdicts",
                "fitted_on": ("your verdicts",),
                "model_sha256": shipped.model_sha256 if shipped else None,
                "model_file": shipped.model_file if shipped else None,
                "threshold": shipped.threshold if shipped else None,
                "held_out": {},
            }
        )
        if held_out is None or floor is None:
            if out_of_fold_auroc(make) >= per_fold_auroc(replaced, correct) - 1e-9:
                return Refit(candidate, f"fitted on {len(labels)} of your verdicts")
            continue
        quality = held_out.auroc(candidate)
        if quality is not None and quality >= floor - 1e-9:
            update = {"held_out": {"shipped sets": {"auroc": quality, "shipped_auroc": floor}}}
            return Refit(candidate.model_copy(update=update), f"fitted on {len(labels)} of your verdicts")
    where = "the shipped sets' held-out answers" if floor is not None else "your verdicts"
    return Refit(None, f"a fit on your {len(labels)} verdicts ranks {where} below the fit in use")
