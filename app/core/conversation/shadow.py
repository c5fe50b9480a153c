"""Shadow mode: a challenger answers a share of messages silently, after the visible answer.

It never changes what the user sees: it starts only once the shown answer
is saved, runs on its own thread with its own database connection, and its
result is only stored for ``hearth stats``. A challenger the privacy policy
does not allow without asking is never run, and what it sends goes through
the outgoing gate like everything else.
"""

from __future__ import annotations

from collections.abc import Callable

from app.core.answers import Answer, Attempt
from app.core.confidence.calibration import Scorer
from app.core.privacy.gate import Passage
from app.core.providers.base import Provider
from app.core.routing.cascade import ContextFn, stream_attempt
from app.core.routing.ensemble import similarity
from app.core.storage.store import Store

_GOLDEN = 2654435761  # Knuth's multiplicative hash: spreads consecutive ids evenly


def selected(key: int, share: float) -> bool:
    """Whether item ``key`` falls in the ``share`` (deterministic, evenly spread)."""
    return share > 0 and (key * _GOLDEN % 2**32) / 2**32 < share


def shadow_job(
    provider: Provider,
    context: ContextFn,
    shown: Answer,
    message_id: int,
    scorer: Scorer,
    max_tokens: int,
    open_store: Callable[[], Store],
    passage_for: Callable[[Store], Passage],
    cost: Callable[[Attempt], float],
) -> Callable[[], None]:
    """The challenger's run, through its own passage out (one that never asks)."""

    def run() -> None:
        store = open_store()
        try:
            passage = passage_for(store)
            if not passage.unasked(provider):
                return  # a silent run never sends anything the user did not allow
            attempt = Attempt(tier="shadow", model_id=provider.model_id, location=provider.location.value)
            for _ in stream_attempt(passage.through(provider), context, attempt, 0, max_tokens, scorer):
                pass
            store.add_shadow_run(
                {
                    "message_id": message_id,
                    "champion": shown.model_id,
                    "challenger": provider.model_id,
                    "agreement": similarity(shown.text, attempt.text) if attempt.ok else None,
                    "champion_confidence": shown.confidence,
                    "challenger_confidence": attempt.confidence,
                    "champion_latency_ms": shown.latency_ms,
                    "challenger_latency_ms": attempt.latency_ms,
                    "challenger_tokens": attempt.tokens_out,
                    "challenger_cost": cost(attempt),
                    "error": attempt.error,
                }
            )
        finally:
            store.close()

    return run
