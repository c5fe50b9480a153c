"""What is said under each answer: which tier and model answered, how sure, what it cost, and why."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BadgeInfo:
    tier: str
    model: str
    confidence: float | None
    escalated: bool
    reason: str
    latency_ms: float | None = None
    tokens: int | None = None
    cost: float = 0.0
    status: str = "complete"
    warning: str | None = None

    def why(self) -> str:
        """The tooltip: why the answer stayed local or escalated."""
        return f"{self.warning}\n\n{self.reason}" if self.warning else self.reason


def describe(info: BadgeInfo) -> str:
    """One line: "⬆ escalated · self-hosted · qwen · confidence 0.82 · 1.4 s · 120 tokens · $0.0003"."""
    parts = [info.tier, info.model]
    parts.append("confidence n/a" if info.confidence is None else f"confidence {info.confidence:.2f}")
    if info.latency_ms is not None:
        parts.append(f"{info.latency_ms / 1000:.1f} s")
    if info.tokens is not None:
        parts.append(f"{info.tokens} tokens")
    if info.cost:
        parts.append(f"${info.cost:.4f}")
    text = " · ".join(parts)
    if info.escalated:
        text = "⬆ escalated · " + text
    if info.status != "complete":
        text += f" · {info.status}"
    if info.warning:
        text = "⚠ unsure · " + text
    return text
