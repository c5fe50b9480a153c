"""The line under each answer: which tier and model answered, how sure, and why."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget


@dataclass(frozen=True)
class BadgeInfo:
    tier: str
    model: str
    confidence: float | None
    escalated: bool
    reason: str
    latency_ms: float | None = None
    tokens: int | None = None
    status: str = "complete"
    warning: str | None = None


class AnswerBadge(QWidget):
    """Also the answer's actions: rate it, regenerate it, or ask a stronger model."""

    rated = Signal(int)
    regenerate_requested = Signal()
    stronger_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("answerBadge")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 0)
        layout.setSpacing(8)
        self.label = QLabel(self)
        self.label.setObjectName("badgeText")
        self.bar = QProgressBar(self)
        self.bar.setObjectName("confidenceBar")
        self.bar.setRange(0, 100)
        self.bar.setTextVisible(False)
        self.bar.setFixedSize(44, 8)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addStretch(1)
        self.thumbs_up = self._action("✓", "This answer was good", lambda: self.rated.emit(1))
        self.thumbs_down = self._action("✗", "This answer was wrong or unhelpful", lambda: self.rated.emit(-1))
        self.regenerate = self._action(
            "↻", "Regenerate (the current answer is kept as a version)", self.regenerate_requested.emit
        )
        self.stronger = self._action("⬆", "Ask a stronger model", self.stronger_requested.emit)
        for button in (self.thumbs_up, self.thumbs_down, self.regenerate, self.stronger):
            layout.addWidget(button)
        self.hide()

    def _action(self, text: str, name: str, slot: Callable[[], None]) -> QToolButton:
        button = QToolButton(self)
        button.setObjectName("answerAction")
        button.setText(text)
        button.setToolTip(name)
        button.setAccessibleName(name)
        button.setAutoRaise(True)
        button.clicked.connect(slot)
        return button

    def show_info(self, info: BadgeInfo) -> None:
        parts = [info.tier, info.model]
        if info.confidence is None:
            parts.append("confidence n/a")
            self.bar.hide()
        else:
            parts.append(f"confidence {info.confidence:.2f}")
            self.bar.setValue(round(info.confidence * 100))
            self.bar.setAccessibleName(f"Confidence {info.confidence:.0%}")
            self.bar.show()
        if info.latency_ms is not None:
            parts.append(f"{info.latency_ms / 1000:.1f} s")
        if info.tokens is not None:
            parts.append(f"{info.tokens} tokens")
        text = " · ".join(parts)
        if info.escalated:
            text = "⬆ escalated · " + text
        if info.status != "complete":
            text += f" · {info.status}"
        if info.warning:
            text = "⚠ unsure · " + text
        self.label.setText(text)
        self.setToolTip(f"{info.warning}\n\n{info.reason}" if info.warning else info.reason)
        self.label.setAccessibleName(f"Answer details: {text}. {info.reason}")
        self.setProperty("escalated", info.escalated)
        self.label.style().unpolish(self.label)  # re-apply the style sheet for the new property
        self.label.style().polish(self.label)
        self.show()
