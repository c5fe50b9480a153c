"""Calibrated confidence: a fitted probability that an answer is right, per model.

A fit is data, one versioned JSON file per model: a logistic regression over
named signals (``FEATURES`` says which names exist), and optionally a linear
probe on the model's final hidden state, averaged over the answer's tokens,
whose probability is one of those signals (both regressions: ``logistic.py``).

Fits come from two places. Hearth ships fits for the models it knows, in
``resources/calibration/``, fitted on the calibration files of tests/data
and reported on the disjoint evaluation files; each names the SHA-256 of the
weights it belongs to, so it applies whatever the model is called in
models.toml. ``hearth calibrate`` writes a fit of the user's own to
``<data>/calibration/<model>.json``, which takes precedence. A later refit
from the user's verdicts (app/core/conversation/learning/refit.py) rescales
the shipped fit's score (``recalibrated``) or, with many verdicts, fits the
top layer again over the stored signals, keeping the shipped probe.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from app.core.confidence.logistic import Logistic, fit_logistic, sigmoid
from app.core.confidence.metrics import auroc
from app.core.confidence.signals import Signals, TokenTrace, default_score
from app.core.config.schema import Config, LocalModel
from app.core.errors import InvalidInput
from app.core.paths import bundled

# 3: the probe reads the final hidden state averaged over the answer (2: after its last token only).
FORMAT_VERSION = 3
SHIPPED = bundled("resources/calibration")
LOGPROB_FLOOR = -30.0


def _logprob(value: float | None) -> float:
    return max(value if value is not None else 0.0, LOGPROB_FLOOR)


def _logit(p: float | None) -> float:
    p = min(max(p if p is not None else 0.5, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


# Every signal a fit may use, as a number.
FEATURES: dict[str, Callable[[Signals], float]] = {
    "mean_logprob": lambda s: _logprob(s.mean_logprob),
    "min_logprob": lambda s: _logprob(s.min_logprob),
    "q10_prob": lambda s: s.q10_prob or 0.0,
    "q25_prob": lambda s: s.q25_prob or 0.0,
    "mean_entropy": lambda s: s.mean_entropy or 0.0,
    "max_entropy": lambda s: s.max_entropy or 0.0,
    "mean_margin": lambda s: s.mean_margin or 0.0,
    "min_margin": lambda s: s.min_margin or 0.0,
    "span_mean_logprob": lambda s: _logprob(s.span_mean_logprob),
    "span_min_logprob": lambda s: _logprob(s.span_min_logprob),
    "span_first_logprob": lambda s: _logprob(s.span_first_logprob),
    "span_mean_entropy": lambda s: s.span_mean_entropy or 0.0,
    "span_min_margin": lambda s: s.span_min_margin or 0.0,
    # An answer cut off by the token limit never reached its end: as unsure of it as can be.
    "end_logprob": lambda s: _logprob(s.end_logprob if s.end_logprob is not None else LOGPROB_FLOOR),
    "log_tokens": lambda s: math.log1p(s.n_tokens),
    "probe_logit": lambda s: _logit(s.probe),
    "hedge": lambda s: float(s.hedge),
    "refusal": lambda s: float(s.refusal),
    "truncated": lambda s: float(s.truncated),
    "repetition": lambda s: s.repetition,
    "empty": lambda s: float(s.empty),
    "language_mismatch": lambda s: float(s.language_mismatch),
    # +1 where the answer agrees with Hearth's own result, -1 where it contradicts it, 0 where there is none.
    "self_check": lambda s: 0.0 if s.self_check is None else 1.0 if s.self_check else -1.0,
}
TEXT_CHECKS = ("hedge", "refusal", "truncated", "repetition", "empty", "language_mismatch")
# What ``fit`` uses unless told otherwise: the hidden-state probe, the mean log-probability of
# the answer's tokens, the answer span's least likely token, the mean entropy, and whether the
# answer agrees with Hearth's own result where Hearth can work one out (``self_check``: simple
# sums, sorting words). Chosen by 5-fold cross-validation (AUROC) on the bundled model's answers
# to the calibration files of tests/data (1,593 answers, 409 right; pooled / facts, choice,
# arithmetic, instructions), with the probe reading the hidden state averaged over the answer:
# this set 0.913 / 0.80, 0.62, 1.00, 0.88; the same without the self-check 0.808 / 0.80, 0.62,
# 0.86, 0.77; the self-check deciding alone where it has a verdict, the other four elsewhere,
# 0.913 / 0.79, 0.62, 1.00, 0.88. (Before the self-check, in folds of another split: these four
# 0.814, the probe alone 0.811, every signal and the text checks (RICHER_FEATURES) 0.815, adding
# the largest entropy or the end-of-answer token 0.813-0.814, the three token signals without the
# probe 0.740.) Checked again on 2,056 answers (450 right; the calibration file of short facts
# grew from 449 to 912 questions): these five 0.908 / 0.81, 0.58, 1.00, 0.88; every signal the
# same pooled; the probe and the self-check alone 0.907 (0.82 on facts, 0.85 on instructions);
# with the largest entropy added to those two 0.908 (0.82, 0.87); the four without the
# self-check 0.823. With the probe read out of fold by kind (``_probe_folds``), each of the 33
# kinds of the calibration files left out in turn: these five rank a new kind's answers at 0.753
# within the kind (0.741 in bench/cascade.py's run; 0.701 read by answer), the four without the
# probe 0.757, the largest entropy with the self-check 0.725; held out on the chemical elements,
# a domain no calibration file touches, 0.76 (0.63 by answer, 0.80 without the probe) and on the
# short facts 0.885 (0.916, 0.80), so the probe stays. Reading the hidden state costs 3-12 % of a
# short answer's time on two busy cores (bench/cascade.py measures it); the self-check 0.02 ms.
DEFAULT_FEATURES = ("probe_logit", "mean_logprob", "span_min_logprob", "mean_entropy", "self_check")
# The signals of the uncalibrated default score (``signals.default_score``), less its discounts for
# the text checks: what a model without a shipped fit is refitted on from the user's verdicts.
UNCALIBRATED_FEATURES = ("span_min_logprob", "self_check")
RICHER_FEATURES = (
    "probe_logit",
    "span_mean_logprob",
    "span_min_logprob",
    "mean_logprob",
    "mean_entropy",
    "span_min_margin",
    "log_tokens",
    "self_check",
    *TEXT_CHECKS,
)


class Calibration(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = FORMAT_VERSION
    model_id: str
    # The weights this fit belongs to: a shipped fit applies to any model id whose file has this
    # SHA-256 (or, where models.toml gives none, this file name).
    model_sha256: str | None = None
    model_file: str | None = None
    # "user": made with hearth calibrate; "verdicts": refitted from the user's verdicts (conversation/learning).
    source: Literal["shipped", "user", "verdicts"] = "user"
    features: tuple[str, ...]
    logistic: Logistic
    # A linear probe on the final hidden state averaged over the answer's tokens; its probability is
    # the "probe_logit" feature.
    probe: Logistic | None = None
    threshold: float | None = None
    target: str | None = None
    fitted_at: str
    fitted_on: tuple[str, ...] = ()
    examples: int
    correct: int
    # Quality on data the fit never saw, per data file: auroc, ece, accuracy, items.
    held_out: dict[str, dict[str, float | None]] = {}

    def complete(self, signals: Signals, hidden: Sequence[float]) -> Signals:
        """The signals with the probe's reading of the hidden state, where this fit has a probe."""
        if self.probe is None or len(hidden) != len(self.probe.weights):
            return signals
        return _with_probe(signals, self.probe.probability(hidden), self.probe)

    @property
    def reads_hidden_state(self) -> bool:
        return self.probe is not None and "probe_logit" in self.features

    def logit(self, signals: Signals) -> float | None:
        """The fit's linear score for these signals; None where it cannot read them."""
        if not signals.has_token_probabilities:
            return None
        if "probe_logit" in self.features and not _read_by(signals, self.probe):
            return None  # the answer came without a hidden state, or another probe read it
        return self.logistic.logit([FEATURES[name](signals) for name in self.features])

    def probability(self, signals: Signals) -> float | None:
        logit = self.logit(signals)
        return None if logit is None else float(sigmoid(logit))


PROBE_L2 = (30.0, 100.0, 300.0, 1000.0, 3000.0)


def _probe_out_of_fold(x: np.ndarray, y: np.ndarray, folds: np.ndarray, l2: float) -> np.ndarray:
    held = np.empty(len(y))
    for fold in np.unique(folds):
        test = folds == fold
        model = fit_logistic(x[~test], y[~test], l2)
        held[test] = [model.probability(row) for row in x[test]]
    return held


def _auroc(scores: np.ndarray, y: np.ndarray) -> float:
    return auroc(scores.tolist(), (y > 0.5).tolist()) or 0.5


def _with_probe(signals: Signals, reading: float, probe: Logistic) -> Signals:
    return Signals.from_dict({**signals.as_dict(), "probe": reading, "probe_of": probe.fingerprint})


def _read_by(signals: Signals, probe: Logistic | None) -> bool:
    """Whether these signals carry this probe's reading (a new probe shipped since makes old readings void)."""
    return probe is not None and signals.probe is not None and signals.probe_of == probe.fingerprint


PROBE_FOLDS = 5


def _probe_folds(keep: Sequence[int], kinds: Sequence[str] | None) -> np.ndarray:
    """The fold of each kept answer for the probe's out-of-fold readings: whole kinds of question
    per fold where the answers name at least as many kinds as there are folds, else answers in turn.

    A probe learns which kinds of question the model knows, and that does not carry over to a kind
    it never saw (a user's questions are mostly of such kinds): read out of fold by kind, the layer
    above learns how far to trust it there.
    """
    if kinds is not None and len({kinds[i] for i in keep}) >= PROBE_FOLDS:
        order = {kind: n for n, kind in enumerate(sorted({kinds[i] for i in keep}))}
        return np.asarray([order[kinds[i]] % PROBE_FOLDS for i in keep])
    return np.arange(len(keep)) % PROBE_FOLDS


def fit(
    model_id: str,
    signals: Sequence[Signals],
    correct: Sequence[bool],
    l2: float = 1.0,
    features: Sequence[str] = DEFAULT_FEATURES,
    hidden: Sequence[Sequence[float]] | None = None,
    probe: Logistic | None = None,
    kinds: Sequence[str] | None = None,
) -> Calibration:
    """Logistic regression of correctness on the signals (answers without token probabilities are skipped).

    With ``hidden`` (each answer's final hidden state), a probe is fitted first, its penalty
    chosen from ``PROBE_L2`` by 5-fold cross-validation; the top layer then reads probe
    probabilities that are out-of-fold (each from a probe that did not see that answer, nor, given
    ``kinds``, the kind of question each answer belongs to: ``_probe_folds``), so it learns how far
    the probe can be trusted on new answers. With ``probe`` instead (a probe
    fitted before, the shipped one), the signals already carry its readings: answers without one
    are skipped, and the new top layer reads them.
    """
    reads_probe = "probe_logit" in features and probe is not None
    keep = [i for i, s in enumerate(signals) if s.has_token_probabilities and (not reads_probe or _read_by(s, probe))]
    if len(keep) < 10:
        raise InvalidInput(
            f"Calibration needs at least 10 scored answers, got {len(keep)}: give more questions, "
            "with a model that reports token probabilities."
        )
    rows = [signals[i] for i in keep]
    y = np.asarray([float(correct[i]) for i in keep])
    if hidden is not None and "probe_logit" in features and probe is None:
        states = np.asarray([hidden[i] for i in keep], dtype=np.float64)
        folds = _probe_folds(keep, kinds)
        held = {l2: _probe_out_of_fold(states, y, folds, l2) for l2 in PROBE_L2}
        best = max(PROBE_L2, key=lambda l2: _auroc(held[l2], y))
        probe = fit_logistic(states, y, best)
        rows = [_with_probe(s, float(p), probe) for s, p in zip(rows, held[best], strict=True)]
    names = tuple(n for n in features if n != "probe_logit" or probe is not None)
    x = np.asarray([[FEATURES[n](s) for n in names] for s in rows], dtype=np.float64)
    return Calibration(
        model_id=model_id,
        features=names,
        logistic=fit_logistic(x, y, l2),
        probe=probe if "probe_logit" in names else None,
        fitted_at=datetime.now(UTC).isoformat(timespec="seconds"),
        examples=len(rows),
        correct=int(y.sum()),
    )


def recalibrated(calibration: Calibration, signals: Sequence[Signals], correct: Sequence[bool]) -> Calibration:
    """The same fit, its score's scale and offset fitted again to these answers (Platt scaling).

    Two numbers whatever the fit reads, so a few dozen labels are enough. The ranking stays the
    fit's wherever the new scale is positive (these answers agree that a higher score means more
    often right); what changes is how often an answer at each score is right.
    """
    scored = [(calibration.logit(s), ok) for s, ok in zip(signals, correct, strict=True)]
    pairs = [(z, ok) for z, ok in scored if z is not None]
    if len(pairs) < 10:
        raise InvalidInput(f"Recalibration needs at least 10 scored answers, got {len(pairs)}.")
    platt = fit_logistic(np.asarray([[z] for z, _ in pairs]), np.asarray([float(ok) for _, ok in pairs]), l2=1.0)
    slope = platt.weights[0] / platt.scale[0]
    offset = platt.bias - slope * platt.mean[0]
    logistic = calibration.logistic.model_copy(
        update={
            "weights": tuple(w * slope for w in calibration.logistic.weights),
            "bias": calibration.logistic.bias * slope + offset,
        }
    )
    return calibration.model_copy(
        update={
            "logistic": logistic,
            "fitted_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "examples": len(pairs),
            "correct": sum(ok for _, ok in pairs),
        }
    )


def calibration_file(folder: Path, model_id: str) -> Path:
    return folder / (re.sub(r"[^A-Za-z0-9._-]", "_", model_id) + ".json")


def save(calibration: Calibration, folder: Path, name: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = calibration_file(folder, name or calibration.model_id)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(calibration.model_dump_json(indent=1), encoding="utf-8")
    temporary.replace(path)
    return path


def read(path: Path) -> Calibration | None:
    """A fit, or None when the file is missing, broken, from another format version or uses unknown signals."""
    try:
        calibration = Calibration.model_validate_json(path.read_bytes())
    except (OSError, ValidationError):
        return None
    if calibration.version != FORMAT_VERSION or not set(calibration.features) <= FEATURES.keys():
        return None
    if len(calibration.logistic.weights) != len(calibration.features):
        return None
    return calibration


def load(folder: Path, model_id: str) -> Calibration | None:
    """The user's own fit for this model id, if any."""
    return read(calibration_file(folder, model_id))


def shipped(model: LocalModel, folder: Path = SHIPPED) -> Calibration | None:
    """The fit Hearth ships for this model's weights, if any."""
    if not folder.is_dir():
        return None
    for path in sorted(folder.glob("*.json")):
        calibration = read(path)
        if calibration is None:
            continue
        if model.sha256 is not None and calibration.model_sha256 == model.sha256:
            return calibration
        if model.sha256 is None and calibration.model_file == Path(model.file).name:
            return calibration
    return None


class Scorer:
    """Confidence and threshold per model: calibrated where a fit exists, the default otherwise."""

    def __init__(
        self,
        default_threshold: float,
        calibrations: dict[str, Calibration] | None = None,
        forced_threshold: float | None = None,
        collect_hidden_states: bool = False,
    ):
        """``forced_threshold`` overrides every model's threshold (an A/B arm that tries another one);
        ``collect_hidden_states`` reads every answer's hidden state, to fit a probe on them."""
        self.default_threshold = default_threshold
        self.calibrations = calibrations or {}
        self.forced_threshold = forced_threshold
        self.collect_hidden_states = collect_hidden_states

    def with_threshold(self, threshold: float) -> Scorer:
        return Scorer(self.default_threshold, self.calibrations, threshold, self.collect_hidden_states)

    def reads_hidden_state(self, model_id: str) -> bool:
        """Whether this model's answers need the extra step that reads the hidden state: only
        where its fit has a probe (the step costs about 2 % of a short answer), or to fit one."""
        calibration = self.calibrations.get(model_id)
        return self.collect_hidden_states or (calibration is not None and calibration.reads_hidden_state)

    @classmethod
    def for_config(cls, config: Config, folder: Path, shipped_folder: Path = SHIPPED) -> Scorer:
        """Each model's own fit from ``folder``, else the fit Hearth ships for a local model's weights."""
        found: dict[str, Calibration | None] = {}
        for model_id, model in config.models.items():
            found[model_id] = load(folder, model_id)
            if found[model_id] is None and isinstance(model, LocalModel):
                found[model_id] = shipped(model, shipped_folder)
        return cls(config.settings.threshold, {k: v for k, v in found.items() if v is not None})

    def complete(self, model_id: str, signals: Signals, trace: TokenTrace) -> Signals:
        calibration = self.calibrations.get(model_id)
        return calibration.complete(signals, trace.hidden) if calibration else signals

    def score(self, model_id: str, signals: Signals) -> float | None:
        calibration = self.calibrations.get(model_id)
        value = calibration.probability(signals) if calibration else None
        return value if value is not None else default_score(signals)

    def threshold(self, model_id: str) -> float:
        if self.forced_threshold is not None:
            return self.forced_threshold
        calibration = self.calibrations.get(model_id)
        if calibration is not None and calibration.threshold is not None:
            return calibration.threshold
        return self.default_threshold

    def calibrated(self, model_id: str) -> bool:
        return model_id in self.calibrations
