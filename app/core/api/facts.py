"""What Hearth adds to every answer of its API: which tier and model answered, how sure it was, and why.

The same facts go in the ``hearth`` field of the response (and of the last stream chunk),
which clients that do not know it ignore, and in ``X-Hearth-*`` headers. Header values
are ASCII: the reason is percent-encoded UTF-8.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import quote

from app.core.answers import Answer, Attempt


@dataclass(frozen=True)
class AttemptFacts:
    tier: str
    model: str
    location: str
    confidence: float | None
    tokens: int
    error: str | None


@dataclass(frozen=True)
class HearthFacts:
    tier: str
    model: str
    confidence: float | None
    escalated: bool
    reason: str
    attempts: list[AttemptFacts]
    cost: float  # USD, every attempt together

    @classmethod
    def of(cls, answer: Answer, cost: Callable[[Attempt], float]) -> HearthFacts:
        return cls(
            tier=answer.tier,
            model=answer.model_id,
            confidence=None if answer.confidence is None else round(answer.confidence, 4),
            escalated=answer.escalated,
            reason=answer.reason,
            attempts=[
                AttemptFacts(a.tier, a.model_id, a.location, a.confidence, a.tokens_out, a.error)
                for a in answer.attempts
            ],
            cost=round(sum(cost(attempt) for attempt in answer.attempts), 6),
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def headers(self) -> dict[str, str]:
        return {
            "X-Hearth-Tier": quote(self.tier),
            "X-Hearth-Model": quote(self.model),
            "X-Hearth-Confidence": "" if self.confidence is None else f"{self.confidence:.4f}",
            "X-Hearth-Escalated": "true" if self.escalated else "false",
            "X-Hearth-Reason": quote(self.reason),
            "X-Hearth-Attempts": str(len(self.attempts)),
            "X-Hearth-Cost": f"{self.cost:.6f}",
        }


def started_headers(tier: str, model: str) -> dict[str, str]:
    """What a stream's headers can say: they leave before the answer is scored (the last chunk says the rest)."""
    return {"X-Hearth-Tier": quote(tier), "X-Hearth-Model": quote(model)}
