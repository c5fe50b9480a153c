"""The chat's side of learning: keep each verdict as a label, refit in the background when due.

The scorer the chat uses is updated in place once a refit is kept, so the next answer is
scored with it; a reset forgets the model's labels and goes back to the shipped fit. A fit the
user made with ``hearth calibrate`` is theirs: verdicts are still kept, but do not replace it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.core.confidence.calibration import SHIPPED, Calibration, Scorer, calibration_file, load, save, shipped
from app.core.config.schema import Config, LocalModel
from app.core.conversation.background import BackgroundTasks
from app.core.conversation.learning import labels
from app.core.conversation.learning.held_out import load_held_out
from app.core.conversation.learning.labels import Verdict
from app.core.conversation.learning.refit import MIN_EACH, MIN_LABELS, REFIT_EVERY, refit
from app.core.storage.rows import AttemptRow
from app.core.storage.store import Store


@dataclass(frozen=True)
class LearningStatus:
    model: str
    labels: int  # verdicts kept for this model
    calibrated_on: int | None  # answers the fit in use learnt from, where it learnt from the user's verdicts
    own_fit: bool  # a fit the user made with hearth calibrate is in use
    shipped_examples: int | None  # test answers the shipped fit was fitted on, if there is one

    def describe(self) -> str:
        if self.calibrated_on is not None:
            kept = f"{self.labels:,} verdicts kept on this computer"
            return f"Calibrated on {self.calibrated_on:,} of your answers ({kept})."
        if self.own_fit:
            return f"Calibrated with hearth calibrate; {self.labels:,} of your verdicts kept on this computer."
        start = (
            f"Hearth's calibration (fitted on {self.shipped_examples:,} test answers)"
            if self.shipped_examples
            else "Not calibrated yet (the documented default score)"
        )
        return (
            f"{start}; {self.labels:,} of your verdicts so far. It learns from them from {MIN_LABELS}, "
            f"with at least {MIN_EACH} good and {MIN_EACH} wrong."
        )


class Learner:
    def __init__(
        self,
        config: Config,
        scorer: Scorer,
        folder: Path,
        open_store: Callable[[], Store],
        shipped_folder: Path = SHIPPED,
    ):
        """``folder`` holds the user's own fits (``paths.calibration``)."""
        self.config = config
        self.scorer = scorer
        self.folder = folder
        self.shipped_folder = shipped_folder
        self._open_store = open_store
        self.background = BackgroundTasks()  # one refit at a time, off the chat's path
        self._lock = threading.Lock()
        self._due: dict[str, bool] = {}  # model -> a refit is queued or running; True: verdicts came meanwhile

    def rate(self, store: Store, message_id: int, good: bool) -> None:
        """✓ Good or ✗ Wrong: kept as feedback (for the statistics) and as a label."""
        store.add_feedback(message_id, 1 if good else -1)
        self.verdict(store, message_id, Verdict.GOOD if good else Verdict.WRONG)

    def verdict(self, store: Store, message_id: int, verdict: Verdict) -> None:
        """Keep the user's verdict on the answer this message shows."""
        model = labels.label_shown(store, message_id, verdict)
        if model is not None:
            self._refit_when_due(store, model)

    def compared(self, store: Store, chosen: AttemptRow, other: AttemptRow) -> None:
        """The user chose ``chosen`` over ``other`` in Compare: a label for each."""
        for attempt, verdict in ((chosen, Verdict.PREFERRED), (other, Verdict.NOT_PREFERRED)):
            if labels.label_attempt(store, attempt, verdict):
                self._refit_when_due(store, attempt.model)

    def status(self, store: Store, model: str) -> LearningStatus:
        own = load(self.folder, model)
        base = self._shipped(model)
        return LearningStatus(
            model=model,
            labels=labels.count(store, model),
            calibrated_on=own.examples if own is not None and own.source == "verdicts" else None,
            own_fit=own is not None and own.source == "user",
            shipped_examples=base.examples if base is not None else None,
        )

    def reset(self, store: Store, model: str) -> None:
        """Forget this model's verdicts and the fit made from them; the shipped fit is used again."""
        labels.forget(store, model)
        own = load(self.folder, model)
        if own is not None and own.source == "verdicts":
            calibration_file(self.folder, model).unlink(missing_ok=True)
        self._use(model, own if own is not None and own.source == "user" else self._shipped(model))

    def close(self) -> None:
        self.background.close()

    def _shipped(self, model: str) -> Calibration | None:
        configured = self.config.models.get(model)
        return shipped(configured, self.shipped_folder) if isinstance(configured, LocalModel) else None

    def _use(self, model: str, calibration: Calibration | None) -> None:
        if calibration is None:
            self.scorer.calibrations.pop(model, None)
        else:
            self.scorer.calibrations[model] = calibration

    def _refit_when_due(self, store: Store, model: str) -> None:
        status = self.status(store, model)
        if status.own_fit or status.labels < MIN_LABELS:
            return
        if status.calibrated_on is None or status.labels - status.calibrated_on >= REFIT_EVERY:
            with self._lock:
                if model in self._due:
                    self._due[model] = True  # the refit under way runs once more, with these verdicts too
                    return
                self._due[model] = False
            self.background.submit(lambda: self._refit_until_current(model))

    def _refit_until_current(self, model: str) -> None:
        """Refit, and again while verdicts arrived during the last one: the fit ends up covering them all."""
        while True:
            try:
                self._refit(model)
            finally:
                with self._lock:
                    again = self._due.pop(model)
                    if again:
                        self._due[model] = False
            if not again:
                return

    def _refit(self, model: str) -> None:
        store = self._open_store()
        try:
            kept = labels.labels(store, model)
        finally:
            store.close()
        base = self._shipped(model)
        held_out = load_held_out(base.model_id, self.shipped_folder) if base is not None else None
        if held_out is not None and base is not None and held_out.model_sha256 != base.model_sha256:
            held_out = None  # rows from other weights say nothing about these
        result = refit(model, kept, base, held_out)
        if result.calibration is not None:
            save(result.calibration, self.folder, name=model)
            self._use(model, result.calibration)
