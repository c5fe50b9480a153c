"""A model's calibration fitted again from the user's verdicts, never worse than the shipped one.

How many labels: the refit is a logistic regression, and the usual rule for one that does not
fit noise is about ten answers of the rarer outcome per signal it weighs (Peduzzi et al.,
1996). The shipped fits read one signal, so a refit needs ``MIN_LABELS`` verdicts of which at
least ``MIN_EACH`` say right and ``MIN_EACH`` say wrong; it reads the richer set of signals
only with ten of each per signal. Below that the shipped fit stays.

Never worse: a refit must rank the shipped sets' held-out answers (``held_out``) at least as
well as the shipped fit does, by AUROC; one that does not is not kept. Where there are no such
answers (a model Hearth ships no fit for), a refit must rank the verdicts themselves (out of
fold) at least as well as what it would replace: the shipped fit or the documented default. A refit of the shipped
fit's own signal keeps its ranking whenever the user's verdicts agree on the direction (a
lower probability means less often right), and what changes is what the numbers mean: how
often this user finds the model right at each confidence, so the threshold escalates as often
as their verdicts say it should.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.core.confidence.calibration import DEFAULT_FEATURES, RICHER_FEATURES, Calibration, cross_validated, fit
from app.core.confidence.metrics import auroc
from app.core.confidence.signals import default_score
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
    """AUROC within each of ``cross_validated``'s folds, averaged: each fold's answers are ranked by one fit,
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


def refit(
    model_id: str, labels: Sequence[Label], shipped: Calibration | None, held_out: HeldOutAnswers | None
) -> Refit:
    right = sum(label.correct for label in labels)
    if not enough(labels):
        return Refit(
            None,
            f"{len(labels)} verdicts ({right} right, {len(labels) - right} wrong): a refit needs {MIN_LABELS}, "
            f"with at least {MIN_EACH} of each",
        )
    signals = [label.signals for label in labels]
    correct = [label.correct for label in labels]
    base = tuple(n for n in (shipped.features if shipped else DEFAULT_FEATURES) if n != "probe_logit")
    candidates = [base or DEFAULT_FEATURES]
    richer = tuple(n for n in RICHER_FEATURES if n != "probe_logit")
    if min(right, len(labels) - right) >= PER_SIGNAL * len(richer):
        candidates.append(richer)

    def out_of_fold(names: tuple[str, ...]) -> float:
        return per_fold_auroc([p or 0.0 for p in cross_validated(model_id, signals, correct, features=names)], correct)

    ranked = sorted(candidates, key=out_of_fold, reverse=True) if len(candidates) > 1 else candidates
    floor = held_out.auroc(shipped) if held_out is not None and shipped is not None else None
    # Without held-out answers to check on, the refit must rank the verdicts (out of fold) as well as
    # what it replaces: the shipped fit, or the documented default score.
    replaced = [(shipped.probability(s) if shipped else default_score(s)) or 0.0 for s in signals]
    for names in ranked:
        candidate = fit(model_id, signals, correct, features=names).model_copy(
            update={
                "source": "verdicts",
                "fitted_on": ("your verdicts",),
                "model_sha256": shipped.model_sha256 if shipped else None,
                "model_file": shipped.model_file if shipped else None,
                "threshold": shipped.threshold if shipped else None,
            }
        )
        if held_out is None or floor is None:
            if out_of_fold(names) >= per_fold_auroc(replaced, correct) - 1e-9:
                return Refit(candidate, f"fitted on {len(labels)} of your verdicts")
            continue
        quality = held_out.auroc(candidate)
        if quality is not None and quality >= floor - 1e-9:
            update = {"held_out": {"shipped sets": {"auroc": quality, "shipped_auroc": floor}}}
            return Refit(candidate.model_copy(update=update), f"fitted on {len(labels)} of your verdicts")
    where = "the shipped sets' held-out answers" if floor is not None else "your verdicts"
    return Refit(None, f"a fit on your {len(labels)} verdicts ranks {where} below the fit in use")
