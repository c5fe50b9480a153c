"""The shipped sets' held-out answers of a model, as the numbers a fit reads, to check a refit on.

bench/cascade.py writes one file per shipped fit, ``resources/calibration/held-out/<model>.json``:
every signal a fit may read (``calibration.FEATURES``) for each answer to the evaluation halves
of tests/data, and whether it was right. A fit from the user's verdicts is kept only if it
ranks these answers at least as well as the shipped fit does.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from app.core.confidence.calibration import FEATURES, SHIPPED, Calibration, calibration_file
from app.core.confidence.metrics import auroc
from app.core.confidence.signals import Signals

FORMAT_VERSION = 1


class HeldOutAnswers(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = FORMAT_VERSION
    model_sha256: str | None
    files: tuple[str, ...]
    features: tuple[str, ...]
    rows: tuple[tuple[float, ...], ...]
    correct: tuple[bool, ...]

    def auroc(self, calibration: Calibration) -> float | None:
        """How well this fit ranks the answers (None when it reads a signal these rows lack)."""
        if not set(calibration.features) <= set(self.features):
            return None
        columns = [self.features.index(name) for name in calibration.features]
        scores = [calibration.logistic.probability([row[i] for i in columns]) for row in self.rows]
        return auroc(scores, list(self.correct))


def held_out_rows(
    calibration: Calibration, signals: Sequence[Signals], correct: Sequence[bool], files: Sequence[str]
) -> HeldOutAnswers:
    """The rows for these answers (their signals already completed with the fit's probe, if any)."""
    names = tuple(n for n in FEATURES if n != "probe_logit" or calibration.reads_hidden_state)
    return HeldOutAnswers(
        model_sha256=calibration.model_sha256,
        files=tuple(files),
        features=names,
        rows=tuple(tuple(float(FEATURES[n](s)) for n in names) for s in signals),
        correct=tuple(correct),
    )


def held_out_folder(shipped_folder: Path = SHIPPED) -> Path:
    return shipped_folder / "held-out"


def load_held_out(model_id: str, shipped_folder: Path = SHIPPED) -> HeldOutAnswers | None:
    path = calibration_file(held_out_folder(shipped_folder), model_id)
    try:
        answers = HeldOutAnswers.model_validate_json(path.read_bytes())
    except (OSError, ValidationError):
        return None
    return answers if answers.version == FORMAT_VERSION else None
