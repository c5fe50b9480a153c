"""ChatService: one message from the user to a stored, scored answer.

``send`` is a generator of cascade events. It stores the user's message at
once, saves the answer as it streams (at most once a second, so the disk is
not hit per token), and records every attempt at the end. If the caller
stops early, or anything fails, what was received so far is kept and the
answer is marked incomplete.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from app.core.calibration import Scorer
from app.core.cascade import AttemptStarted, Cascade, ConsentFn, Event, Finished, TextDelta, TierPlan
from app.core.config import Config, Privacy
from app.core.context import build_context
from app.core.providers.base import Message, Provider
from app.core.registry import ProviderRegistry
from app.core.store import Store

SAVE_EVERY_S = 1.0
TITLE_LENGTH = 60


@dataclass(frozen=True)
class UserMessageSaved:
    conversation_id: int
    message_id: int
    answer_id: int


ChatEvent = Event | UserMessageSaved


class ChatService:
    def __init__(
        self,
        config: Config,
        registry: ProviderRegistry,
        store: Callable[[], Store],
        consent: ConsentFn | None = None,
        scorer: Scorer | None = None,
    ):
        """``store`` opens a Store for the calling thread (SQLite connections stay on their thread)."""
        self.config = config
        self.registry = registry
        self._open_store = store
        self._consent = consent
        self.scorer = scorer or Scorer(config.settings.threshold)

    def tiers(self) -> list[TierPlan]:
        return [
            TierPlan(tier.name, [self.registry.get(model_id) for model_id in tier.models]) for tier in self.config.tiers
        ]

    def cascade(self, privacy: Privacy | None = None) -> Cascade:
        settings = self.config.settings
        extra = {"consent": self._consent} if self._consent else {}
        return Cascade(
            self.tiers(),
            scorer=self.scorer,
            privacy=privacy or settings.privacy,
            max_answer_tokens=settings.max_answer_tokens,
            **extra,
        )

    def send(self, conversation_id: int | None, text: str, *, privacy: Privacy | None = None) -> Iterator[ChatEvent]:
        store = self._open_store()
        try:
            yield from self._send(store, conversation_id, text, privacy)
        finally:
            store.close()

    def _send(
        self, store: Store, conversation_id: int | None, text: str, privacy: Privacy | None
    ) -> Iterator[ChatEvent]:
        if conversation_id is None:
            conversation_id = store.create_conversation(_title(text))
        user_id = store.add_message(conversation_id, "user", text)
        history = [Message(row.role, row.content) for row in store.messages(conversation_id) if row.role != "system"]
        answer_id = store.add_message(conversation_id, "assistant", "", status="incomplete")
        yield UserMessageSaved(conversation_id, user_id, answer_id)

        def context(provider: Provider) -> list[Message]:
            return build_context(
                self.config.settings.system_prompt, history, provider, self.config.settings.max_answer_tokens
            )

        shown: list[str] = []
        saved_at = time.monotonic()
        finished = False
        try:
            for event in self.cascade(privacy).run(context):
                if isinstance(event, AttemptStarted):
                    shown = []
                elif isinstance(event, TextDelta):
                    shown.append(event.text)
                    if time.monotonic() - saved_at >= SAVE_EVERY_S:
                        store.update_message(answer_id, "".join(shown), "incomplete")
                        saved_at = time.monotonic()
                elif isinstance(event, Finished):
                    answer = event.answer
                    store.update_message(answer_id, answer.text, "complete" if answer.complete else "failed")
                    store.add_attempts(answer_id, list(answer.attempts))
                    finished = True
                yield event
        finally:
            if not finished:
                store.update_message(answer_id, "".join(shown), "incomplete")


def _title(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= TITLE_LENGTH else line[: TITLE_LENGTH - 1].rstrip() + "…"
