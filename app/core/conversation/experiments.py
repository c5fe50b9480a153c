"""Experiments on the user's own traffic: A/B arms (a threshold or a mode) and shadow runs after the answer."""

from __future__ import annotations

import random
from collections.abc import Callable

from app.core.answers import Answer, Attempt
from app.core.confidence.calibration import Scorer
from app.core.config.schema import Config, Privacy
from app.core.conversation.background import BackgroundTasks
from app.core.conversation.shadow import selected, shadow_job
from app.core.privacy.gate import OutboundGate, Passage
from app.core.providers.pricing import Pricing
from app.core.providers.registry import ProviderRegistry
from app.core.routing.cascade import ContextFn
from app.core.storage.store import Store


def quiet_passage(
    gate: OutboundGate,
    privacy: Privacy,
    purpose: str,
    conversation_id: int | None = None,
    message_id: int | None = None,
) -> Callable[[Store], Passage]:
    """The way out of a job that runs after the answer: it never asks, so it only goes where the
    policy allows without asking (a silent run never sends anything the user did not allow)."""
    return lambda store: gate.passage(
        store, privacy, conversation_id=conversation_id, message_id=message_id, purpose=purpose, ask=False
    )


class Experiments:
    def __init__(
        self,
        config: Config,
        registry: ProviderRegistry,
        store: Callable[[], Store],
        gate: OutboundGate,
        pricing: Pricing,
        background: BackgroundTasks,
    ):
        self.config = config
        self.registry = registry
        self._open_store = store
        self.gate = gate
        self.pricing = pricing
        self.background = background

    def arm(self, store: Store, conversation_id: int | None) -> str:
        """A new conversation joins arm B with the configured share; a conversation keeps its arm."""
        if conversation_id is None:
            return "B" if random.random() < self.config.ab.share else "A"
        return store.conversation(conversation_id).arm

    def arm_settings(self, arm: str, scorer: Scorer) -> tuple[Scorer, str]:
        """Arm B of an A/B test runs with its own threshold and mode; arm A with the configured ones."""
        ab = self.config.ab
        if arm != "B":
            return scorer, self.config.settings.mode
        arm_scorer = scorer.with_threshold(ab.threshold) if ab.threshold is not None else scorer
        return arm_scorer, ab.mode or self.config.settings.mode

    def maybe_shadow(
        self, conversation_id: int, answer_id: int, shown: Answer, context: ContextFn, privacy: Privacy, scorer: Scorer
    ) -> None:
        """A shadow model answers the same context in the background, on its configured share of answers."""
        shadow = self.config.shadow
        if shadow.model is None or not selected(answer_id, shadow.share):
            return
        job = shadow_job(
            self.registry.get(shadow.model),
            context,
            shown,
            answer_id,
            scorer,
            self.config.settings.max_answer_tokens,
            self._open_store,
            quiet_passage(self.gate, privacy, "shadow", conversation_id, answer_id),
            self._cost,
        )
        self.background.submit(job)

    def _cost(self, attempt: Attempt) -> float:
        return self.pricing.cost(attempt.model_id, attempt.tokens_in, attempt.tokens_out)
