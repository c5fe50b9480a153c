"""ChatService: one message from the user to a stored, scored answer.

``send`` is a generator of cascade events. It stores the user's message at
once, saves the answer as it streams (at most once a second, so the disk is
not hit per token), and records every attempt at the end. If the caller
stops early, or anything fails, what was received so far is kept and the
answer is marked incomplete.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from app.core import router
from app.core.attachments import image_url, sort_attachments
from app.core.background import BackgroundTasks
from app.core.calibration import Scorer
from app.core.cascade import (
    Answer,
    Attempt,
    AttemptEnded,
    AttemptStarted,
    Cascade,
    ConsentFn,
    ContextFn,
    Event,
    Finished,
    TextDelta,
    TierPlan,
)
from app.core.config import Config, Privacy, RemoteBase
from app.core.context import build_context, recent_history
from app.core.ensemble import EnsembleRun
from app.core.errors import HearthError
from app.core.policy import Allowance, allowance
from app.core.providers.base import Message, Provider
from app.core.registry import ProviderRegistry
from app.core.retry import Cooldowns
from app.core.rows import shown_attempt
from app.core.shadow import selected, shadow_job
from app.core.store import Store
from app.core.summary import summary_job

# Streamed text is saved, then shown, at most this often: what was shown survives a crash.
SAVE_EVERY_S = 0.1
# What an attempt recorded while it streamed says until it ends (for ever, if Hearth was killed).
INTERRUPTED = "Interrupted before it finished."
TITLE_LENGTH = 60


@dataclass(frozen=True)
class UserMessageSaved:
    conversation_id: int
    message_id: int
    answer_id: int


@dataclass(frozen=True)
class Routed:
    route: router.Route


ChatEvent = Event | UserMessageSaved | Routed


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
        self.background = BackgroundTasks()  # shadow runs and summaries, after the answer
        self.cooldowns = Cooldowns()  # failing models rest across messages

    def tiers(self) -> list[TierPlan]:
        return [
            TierPlan(tier.name, [self.registry.get(model_id) for model_id in tier.models]) for tier in self.config.tiers
        ]

    def cascade(
        self, privacy: Privacy | None = None, route: router.Route | None = None, scorer: Scorer | None = None
    ) -> Cascade:
        """A cascade over the tiers, less those the router ruled out for this message."""
        settings = self.config.settings
        extra = {"consent": self._consent} if self._consent else {}
        return Cascade(
            self.tiers(),
            excluded=route.excluded if route else None,
            redact=settings.redact,
            cooldowns=self.cooldowns,
            estimate=self.estimate_cost,
            message_budget=settings.message_budget,
            scorer=scorer or self.scorer,
            privacy=privacy or settings.privacy,
            max_answer_tokens=settings.max_answer_tokens,
            **extra,
        )

    def send(
        self,
        conversation_id: int | None,
        text: str,
        *,
        privacy: Privacy | None = None,
        quick: bool = False,
        attachments: Sequence[Path] = (),
        replaces: int | None = None,
    ) -> Iterator[ChatEvent]:
        """Send ``text`` with its attachments (images, text files); with ``replaces``, as an edited
        version of that user message (a new branch)."""
        store = self._open_store()
        try:
            policy = privacy or self.conversation_privacy(store, conversation_id)
            yield from self._send(store, conversation_id, text, policy, quick, attachments, replaces)
        finally:
            store.close()

    def _send(
        self,
        store: Store,
        conversation_id: int | None,
        text: str,
        privacy: Privacy,
        quick: bool,
        paths: Sequence[Path],
        replaces: int | None,
    ) -> Iterator[ChatEvent]:
        # Everything that can refuse the message does so before anything is stored.
        attached = sort_attachments(paths)
        urls = tuple(image_url(path) for path in attached.images)
        content = attached.message_text(text)
        request = router.Request(content, bool(urls), quick)
        route = router.plan(self.config, request, privacy, self._budget_left(store))
        if conversation_id is None:
            arm = "B" if random.random() < self.config.ab.share else "A"
            conversation_id = store.create_conversation(_title(text or content), arm=arm)
        else:
            arm = store.conversation(conversation_id).arm
        user_id = store.add_message(conversation_id, "user", content, version_of=replaces)
        if attached.images:
            store.set_message_meta(user_id, attachments=[str(path) for path in attached.images])
        yield from self._answer(store, conversation_id, user_id, urls, route, privacy, arm, version_of=None)

    def regenerate(self, answer_id: int, *, privacy: Privacy | None = None) -> Iterator[ChatEvent]:
        """Answer the same question again as a new version; the earlier answer stays, one switch away."""
        store = self._open_store()
        try:
            answer = store.message(answer_id)
            if answer.role != "assistant" or answer.after_id is None:
                raise HearthError("Only an answer can be regenerated.")
            question = store.message(answer.after_id)
            conversation = store.conversation(answer.conversation_id)
            policy = privacy or self.conversation_privacy(store, conversation.id)
            files = [Path(p) for p in json.loads(question.attachments or "[]") if Path(p).exists()]
            urls = tuple(image_url(path) for path in files)
            request = router.Request(question.content, bool(files), False)
            route = router.plan(self.config, request, policy, self._budget_left(store))
            yield from self._answer(
                store, conversation.id, question.id, urls, route, policy, conversation.arm, version_of=answer_id
            )
        finally:
            store.close()

    def _answer(
        self,
        store: Store,
        conversation_id: int,
        question_id: int,
        urls: tuple[str, ...],
        route: router.Route,
        privacy: Privacy,
        arm: str,
        version_of: int | None,
    ) -> Iterator[ChatEvent]:
        scorer, mode = self._arm_settings(arm)
        history, summary = self._history(store, conversation_id, through=question_id)
        history[-1] = Message("user", history[-1].content, urls)
        answer_id = store.add_message(conversation_id, "assistant", "", status="incomplete", version_of=version_of)
        store.set_message_meta(answer_id, route=route.as_dict())
        yield UserMessageSaved(conversation_id, question_id, answer_id)
        yield Routed(route)

        context = self._context(history, summary)
        if mode == "ensemble":
            events = self.ensemble(privacy, scorer).run(context)
        else:
            start = [tier.name for tier in self.config.tiers].index(route.start)
            events = self.cascade(privacy, route, scorer).run(context, start_at=start)
        answer = yield from self._save_while_streaming(store, answer_id, events, trigger="auto")
        if answer is not None and answer.complete:
            self._maybe_shadow(answer_id, answer, context, privacy, scorer)
            self.background.submit(summary_job(self.registry.local(), conversation_id, self._open_store))

    def conversation_privacy(self, store: Store, conversation_id: int | None) -> Privacy:
        """The conversation's own policy if it has one, else the app's."""
        if conversation_id is not None:
            own = store.conversation(conversation_id).privacy
            if own:
                return Privacy(own)
        return self.config.settings.privacy

    def set_privacy(self, conversation_id: int, privacy: Privacy | None) -> None:
        """Give a conversation its own policy (None: follow the app's)."""
        store = self._open_store()
        try:
            store.set_conversation_privacy(conversation_id, privacy.value if privacy else None)
        finally:
            store.close()

    def _arm_settings(self, arm: str) -> tuple[Scorer, str]:
        """Arm B of an A/B test runs with its own threshold and mode; arm A with the configured ones."""
        ab = self.config.ab
        if arm != "B":
            return self.scorer, self.config.settings.mode
        scorer = self.scorer.with_threshold(ab.threshold) if ab.threshold is not None else self.scorer
        return scorer, ab.mode or self.config.settings.mode

    def _maybe_shadow(
        self, answer_id: int, shown: Answer, context: ContextFn, privacy: Privacy, scorer: Scorer
    ) -> None:
        shadow = self.config.shadow
        if shadow.model is None or not selected(answer_id, shadow.share):
            return
        if allowance(privacy, self.config.models[shadow.model].location) is not Allowance.ALLOWED:
            return  # a silent run never sends anything the user did not allow
        provider = self.registry.get(shadow.model)
        job = shadow_job(
            provider,
            context,
            shown,
            answer_id,
            scorer,
            self.config.settings.max_answer_tokens,
            self._open_store,
            self._cost,
        )
        self.background.submit(job)

    def close(self) -> None:
        """Let a background job in progress finish (it holds a model and a database connection)."""
        self.background.close()

    def ensemble(self, privacy: Privacy, scorer: Scorer | None = None) -> EnsembleRun:
        """The ensemble's models that the privacy policy lets answer without asking."""
        settings, ensemble = self.config.settings, self.config.ensemble
        model_ids = ensemble.models or [self.config.tiers[0].models[0]]
        allowed = [m for m in model_ids if allowance(privacy, self.config.models[m].location) is Allowance.ALLOWED]
        if not allowed:
            raise HearthError(f"The privacy policy '{privacy.value}' allows none of the ensemble's models.")
        return EnsembleRun(
            [self.registry.get(model_id) for model_id in allowed],
            samples=ensemble.samples,
            temperature=ensemble.temperature,
            agreement_weight=ensemble.agreement_weight,
            scorer=scorer or self.scorer,
            max_answer_tokens=settings.max_answer_tokens,
        )

    def _budget_left(self, store: Store) -> float | None:
        budget = self.config.settings.monthly_budget
        if budget is None:
            return None
        month_start = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        return budget - store.cost_since(month_start.isoformat(timespec="milliseconds"))

    def estimate_cost(self, model_id: str, messages: Sequence[Message]) -> float:
        """What sending ``messages`` would cost at most: the prompt plus a full-length answer."""
        model = self.config.models.get(model_id)
        if not isinstance(model, RemoteBase):
            return 0.0
        provider = self.registry.get(model_id)
        prompt = sum(provider.count_tokens(m.content) for m in messages)
        return (prompt * model.price_in + self.config.settings.max_answer_tokens * model.price_out) / 1_000_000

    def _cost(self, attempt: Attempt) -> float:
        model = self.config.models.get(attempt.model_id)
        if not isinstance(model, RemoteBase):
            return 0.0
        return (attempt.tokens_in * model.price_in + attempt.tokens_out * model.price_out) / 1_000_000

    def reask(self, answer_id: int, *, privacy: Privacy | None = None) -> Iterator[ChatEvent]:
        """Ask the next tier up that the policy allows to answer again ("ask a stronger model").

        The cascade's own decision is recorded as a routing miss. If the new
        answer is interrupted, the earlier one stays as it was.
        """
        store = self._open_store()
        try:
            message = store.message(answer_id)
            if message.role != "assistant":
                raise HearthError("Only an answer can be asked again.")
            history, summary = self._history(store, message.conversation_id, through=message.after_id)
            shown = shown_attempt(store.attempts(answer_id), message.content)
            names = [tier.name for tier in self.config.tiers]
            current = names.index(shown.tier) if shown is not None and shown.tier in names else -1
            cascade = self.cascade(privacy or self.conversation_privacy(store, message.conversation_id))
            context = self._context(history, summary)
            start, why = cascade.next_allowed(current, context)
            if start is None:
                raise HearthError(f"No stronger model can answer this: {why}")
            store.add_routing_event(answer_id, "user-escalation", shown.tier if shown else None, names[start])
            events = cascade.run(context, start_at=start)
            yield from self._save_while_streaming(store, answer_id, events, trigger="user", keep_partial=False)
        finally:
            store.close()

    def _history(self, store: Store, conversation_id: int, through: int | None) -> tuple[list[Message], str | None]:
        longest = max(model.n_ctx for model in self.config.models.values())
        return recent_history(store, conversation_id, through, longest)

    def _context(self, history: list[Message], summary: str | None = None) -> ContextFn:
        settings = self.config.settings

        def context(provider: Provider) -> list[Message]:
            return build_context(settings.system_prompt, history, provider, settings.max_answer_tokens, summary)

        return context

    def set_summary(self, conversation_id: int, text: str) -> None:
        """The user's own version of the summary; later updates build on it."""
        store = self._open_store()
        try:
            current = store.summary(conversation_id)
            last = store.thread(conversation_id)
            covers = current.covers_through if current else (last[-1].id if last else 0)
            store.save_summary(conversation_id, text.strip(), covers, edited=True)
        finally:
            store.close()

    def _save_while_streaming(
        self, store: Store, answer_id: int, events: Iterator[Event], trigger: str, keep_partial: bool = True
    ) -> Generator[ChatEvent, None, Answer | None]:
        """Forward the events, saving first: text is passed on only once it is in the database, and
        each attempt is recorded as it ends, so a crash loses nothing anyone was shown.

        Returns the final answer (None if stopped early).
        """
        shown: list[str] = []  # the current attempt's text
        held: list[TextDelta] = []  # received, not yet saved, so not yet passed on
        first = len(store.attempts(answer_id))  # a re-ask adds to the attempts already there
        recorded: dict[int, str] = {}  # index -> the reason it was recorded with
        streaming: AttemptStarted | None = None
        answer: Answer | None = None
        saved_at = 0.0  # the first words are saved and shown at once; then at most every SAVE_EVERY_S

        def release() -> Iterator[TextDelta]:
            nonlocal saved_at
            if held:
                if keep_partial:
                    store.update_message(answer_id, "".join(shown), "incomplete")
                elif streaming is not None:  # the message keeps its earlier answer: the attempt holds this one
                    location = self.config.models[streaming.model_id].location.value
                    partial = Attempt(streaming.tier, streaming.model_id, location, "".join(shown), error=INTERRUPTED)
                    store.put_attempt(answer_id, first + streaming.index, partial, trigger)
                saved_at = time.monotonic()
                yield TextDelta(held[0].index, "".join(delta.text for delta in held))
                held.clear()

        def record(index: int, attempt: Attempt) -> None:
            if index not in recorded:
                attempt.cost = self._cost(attempt)
                model = self.config.models.get(attempt.model_id)
                attempt.provider = model.provider if model else ""
                store.put_attempt(answer_id, first + index, attempt, trigger)
                recorded[index] = attempt.reason

        try:
            for event in events:
                if isinstance(event, TextDelta):
                    shown.append(event.text)
                    held.append(event)
                    if time.monotonic() - saved_at >= SAVE_EVERY_S:
                        yield from release()
                    continue
                yield from release()
                if isinstance(event, AttemptStarted):
                    shown = []
                    streaming = event
                elif isinstance(event, AttemptEnded):
                    record(event.index, event.attempt)
                elif isinstance(event, Finished):
                    answer = event.answer
                    for index, attempt in enumerate(answer.attempts):
                        record(index, attempt)
                    changed = {
                        first + index: attempt.reason
                        for index, attempt in enumerate(answer.attempts)
                        if recorded[index] != attempt.reason
                    }
                    store.set_attempt_reasons(answer_id, changed)
                    status = "complete" if answer.complete else "failed"
                    store.update_message(answer_id, answer.text, status, answer.warning)
                yield event
            yield from release()
        finally:
            # Closing the cascade now releases the model it may hold, even while an error
            # (whose traceback keeps this frame alive) is still on its way up.
            close = getattr(events, "close", None)
            if close is not None:
                close()
            if answer is None and keep_partial:
                store.update_message(answer_id, "".join(shown), "incomplete")
        return answer


def _title(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= TITLE_LENGTH else line[: TITLE_LENGTH - 1].rstrip() + "…"
