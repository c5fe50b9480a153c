"""``hearth stats``'s report as types: what the cascade did per model, per A/B arm, per way of answering
(evaluation/ways.py) and per shadow challenger.

``as_json`` is the shape ``hearth stats --json`` prints: a model that never had its answer shown lists only
its attempts, and money saved only where it is counted (a local model, against a priced reference).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Latency:
    p50: float | None = None
    p95: float | None = None


@dataclass
class ModelUsage:
    answers: int = 0  # answers of this model that were shown
    escalated_to: int = 0
    thumbs_up: int = 0
    thumbs_down: int = 0
    cost_saved: float | None = None  # None: not counted (not a local model, or no priced reference)
    attempts: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0
    latency_ms: Latency = field(default_factory=Latency)

    def as_json(self) -> dict[str, Any]:
        shown = (
            {"answers": self.answers, "escalated_to": self.escalated_to}
            | {"thumbs_up": self.thumbs_up, "thumbs_down": self.thumbs_down}
            if self.answers
            else {}
        )
        saved = {"cost_saved": self.cost_saved} if self.cost_saved is not None else {}
        tried = {"attempts": self.attempts, "tokens_in": self.tokens_in, "tokens_out": self.tokens_out}
        return shown | saved | tried | {"cost": self.cost, "latency_ms": asdict(self.latency_ms)}


@dataclass
class ArmUsage:
    answers: int = 0
    escalated: int = 0
    routing_misses: int = 0  # the user asked a stronger model
    thumbs_up: int = 0
    thumbs_down: int = 0
    cost: float = 0.0

    @property
    def escalation_rate(self) -> float | None:
        return self.escalated / self.answers if self.answers else None

    def as_json(self) -> dict[str, Any]:
        return asdict(self) | {"escalation_rate": self.escalation_rate}


@dataclass
class WayUsage:
    answers: int = 0
    escalated: int = 0
    rated: int = 0  # answers the user marked ✓ or ✗ (the last rating counts)
    right: int = 0
    cost: float = 0.0
    seconds: Latency = field(default_factory=Latency)  # from the question to the answer's last step

    @property
    def success_rate(self) -> float | None:
        return self.right / self.rated if self.rated else None

    @property
    def cost_per_quality(self) -> float | None:
        """The cost per answer divided by the share right: what a right answer costs, in effect (the
        workflow evaluation's cost per quality-adjusted output, per answer instead of per set)."""
        rate = self.success_rate
        return self.cost / self.answers / rate if rate and self.answers else None

    def as_json(self) -> dict[str, Any]:
        return asdict(self) | {"success_rate": self.success_rate, "cost_per_quality": self.cost_per_quality}


@dataclass(frozen=True)
class ShadowUsage:
    runs: int
    failed: int
    agreement: float | None
    champion_confidence: float | None
    challenger_confidence: float | None
    champion_latency_ms: Latency
    challenger_latency_ms: Latency
    challenger_tokens: int
    challenger_cost: float


@dataclass(frozen=True)
class ConversationCost:
    id: int
    title: str
    cost: float


@dataclass(frozen=True)
class Spending:
    this_month: float
    total: float
    monthly_budget: float | None
    by_conversation: list[ConversationCost]


@dataclass(frozen=True)
class UsageReport:
    spending: Spending
    models: dict[str, ModelUsage]
    arms: dict[str, ArmUsage]
    ways: dict[str, WayUsage]  # the cascade, plan mode, draft then refine (evaluation/ways.py)
    shadow: dict[str, ShadowUsage]
    cost_saved_reference: str | None  # the model money saved is counted against
    unreadable_attempts: int

    @property
    def saved(self) -> float:
        """What answering locally saved, at the reference model's prices."""
        return sum(model.cost_saved or 0.0 for model in self.models.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "spending": asdict(self.spending),
            "models": {name: model.as_json() for name, model in self.models.items()},
            "arms": {arm: values.as_json() for arm, values in self.arms.items()},
            "ways": {way: values.as_json() for way, values in self.ways.items()},
            "shadow": {name: asdict(values) for name, values in self.shadow.items()},
            "cost_saved_reference": self.cost_saved_reference,
            "unreadable_attempts": self.unreadable_attempts,
        }
