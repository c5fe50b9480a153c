"""The line under each answer: which tier and model answered, how sure, and why."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget


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
        self.bar.setFixedSize(60, 8)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addStretch(1)
        self.hide()

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
