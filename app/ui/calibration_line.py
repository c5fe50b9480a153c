"""Settings: how each model's confidence is calibrated ("calibrated on N of your answers"), with a reset."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from app.core.conversation.learning.learner import Learner
from app.core.storage.store import Store
from app.ui import inert


class CalibrationLines(QWidget):
    """One line per model of the tiers: what its confidence learnt from, and Reset where it learnt from you."""

    def __init__(self, learner: Learner, store: Store, parent: QWidget | None = None):
        super().__init__(parent)
        self.learner = learner
        self.store = store
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        models = dict.fromkeys(m for tier in learner.config.tiers for m in tier.models)
        self.lines: dict[str, tuple[QWidget, QPushButton]] = {}
        for model in models:
            row = QHBoxLayout()
            text = inert.plain_label("", self)
            text.setWordWrap(True)
            text.setAccessibleName(f"Confidence of {model}")
            reset = QPushButton("Reset", self)
            reset.setAccessibleName(f"Forget your verdicts on {model}")
            reset.setToolTip("Forget your verdicts on this model's answers and use Hearth's calibration again")
            reset.clicked.connect(lambda _=False, m=model: self.reset(m))
            row.addWidget(text, 1)
            row.addWidget(reset)
            layout.addLayout(row)
            self.lines[model] = (text, reset)
        self.refresh()

    def refresh(self) -> None:
        for model, (text, reset) in self.lines.items():
            status = self.learner.status(self.store, model)
            text.setText(f"{model}: {status.describe()}")
            reset.setEnabled(status.labels > 0 or status.calibrated_on is not None)

    def reset(self, model: str) -> None:
        if inert.confirm(
            self,
            "Forget your verdicts?",
            f"Forget your verdicts on {model}'s answers and the calibration learnt from them?",
            "Its confidence goes back to Hearth's own calibration. Your ratings stay in the statistics.",
        ):
            self.learner.reset(self.store, model)
            self.refresh()
