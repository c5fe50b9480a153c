"""Compare: the answer on show beside another tier's answer to the same message; the user keeps the better one."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QWidget,
)

from app.core.answers import AttemptStarted, Finished, TextDelta
from app.core.conversation import compare
from app.core.conversation.learning.labels import shown_attempt
from app.core.errors import HearthError
from app.core.session import Session
from app.core.storage.rows import AttemptRow
from app.core.storage.store import Store
from app.ui import inert
from app.ui.worker import GeneratorWorker, start


def _heading(tier: str, model: str, confidence: float | None) -> str:
    sure = "" if confidence is None else f" · {round(confidence * 100)} % sure"
    return f"{tier} · {model}{sure}"


class CompareDialog(QDialog):
    def __init__(self, session: Session, store: Store, message_id: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.session, self.store, self.message_id = session, store, message_id
        self.setWindowTitle("Compare answers")
        self.setAccessibleName("Compare answers")
        self.resize(1100, 620)
        self.shown = shown_attempt(store, message_id)
        self.other: AttemptRow | None = None
        grid = QGridLayout(self)
        self.headings = [inert.plain_label("", self), inert.plain_label("", self)]
        self.panes = [QPlainTextEdit(self), QPlainTextEdit(self)]
        self.keep = [QPushButton("Keep this answer", self), QPushButton("Keep this answer", self)]
        for column, (heading, pane, keep) in enumerate(zip(self.headings, self.panes, self.keep, strict=True)):
            heading.setObjectName("hint")
            heading.setWordWrap(True)
            pane.setReadOnly(True)  # plain text: an answer is shown as written, never interpreted
            pane.setAccessibleName("Answer on show" if column == 0 else "Other answer")
            keep.setEnabled(False)
            keep.clicked.connect(lambda _=False, c=column: self.choose(c))
            grid.addWidget(heading, 0, column)
            grid.addWidget(pane, 1, column)
            grid.addWidget(keep, 2, column)
        # Aligned: the two answers scroll together, line against line.
        left, right = (pane.verticalScrollBar() for pane in self.panes)
        left.valueChanged.connect(right.setValue)
        right.valueChanged.connect(left.setValue)
        why = QLabel(
            "Keep the better answer: it becomes the answer on show, and both choices teach each model's "
            "confidence (kept on this computer only).",
            self,
        )
        why.setWordWrap(True)
        why.setObjectName("hint")
        grid.addWidget(why, 3, 0, 1, 2)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        grid.addWidget(buttons, 4, 0, 1, 2)
        message = store.message(message_id)
        self.headings[0].setText(
            "On show: " + (_heading(self.shown.tier, self.shown.model, self.shown.confidence) if self.shown else "")
        )
        self.panes[0].setPlainText(message.content)
        self.headings[1].setText("Asking another tier…")
        inert.plain_labels(self)
        self.worker = GeneratorWorker(lambda: session.chat.compare(message_id))
        self.worker.signals.item.connect(self._on_event)
        self.worker.signals.failed.connect(self._on_failed)
        start(self.worker)

    def _on_event(self, event: object) -> None:
        if isinstance(event, AttemptStarted):
            self.headings[1].setText(f"Asking {event.tier} ({event.label})…")
            self.panes[1].clear()
        elif isinstance(event, TextDelta):
            self.panes[1].insertPlainText(event.text)
        elif isinstance(event, Finished):
            answer = event.answer
            self.headings[1].setText(_heading(answer.tier, answer.model_id, answer.confidence))
            self.panes[1].setPlainText(answer.text)
            self.other = self.store.attempts(self.message_id)[-1]
            ready = self.shown is not None and answer.complete
            for keep in self.keep:
                keep.setEnabled(ready)

    def _on_failed(self, message: str) -> None:
        self.headings[1].setText("No other answer")
        self.panes[1].setPlainText(message)

    def choose(self, column: int) -> None:
        assert self.shown is not None and self.other is not None
        chosen, other = (self.shown, self.other) if column == 0 else (self.other, self.shown)
        try:
            compare.choose(self.store, self.session.learner, self.message_id, chosen.id, other.id)
        except HearthError as exc:
            inert.warn(self, "Not kept", str(exc))
            return
        self.accept()

    def done(self, result: int) -> None:
        self.worker.abort()
        self.worker.wait(30)
        super().done(result)
