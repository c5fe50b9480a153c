"""Plan mode, draft-and-refine and the ensemble wired to a conversation.

In plan mode each part is routed and answered like a message of its own.

The parts use the chat service's tiers, router, gate, cooldowns and scorer, so
privacy, consent, budgets and confidence escalation apply to each part exactly
as to a message. A part on a thread of its own opens its own database
connection and its own way out; consent questions are asked one at a time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from app.core.answers import Answer, Event, Finished
from app.core.confidence.calibration import Scorer
from app.core.conversation.budget import budget_left
from app.core.conversation.context import build_context, system_messages
from app.core.conversation.teamwork.plan_run import MessageRunner, PlanRun
from app.core.conversation.teamwork.plans import Plan, edited, planner_messages
from app.core.conversation.teamwork.refine import DraftRefineRun
from app.core.conversation.teamwork.steps import part_results, stored_plan
from app.core.errors import HearthError
from app.core.privacy.gate import ConsentFn, ConsentRequest, Decision, OutboundGate, Passage
from app.core.providers.base import Message
from app.core.routing import router
from app.core.routing.cascade import Cascade, ContextFn, TierPlan
from app.core.routing.ensemble import EnsembleRun
from app.core.routing.tasks import Recognition, Task, recognise_with

if TYPE_CHECKING:
    from app.core.conversation.chat import ChatService
    from app.core.storage.rows import AttemptRow
    from app.core.storage.store import Store

PLANNER_TOKENS = 160


def one_at_a_time(consent: ConsentFn) -> ConsentFn:
    """``consent`` for several threads: one question on screen at a time."""
    lock = threading.Lock()

    def ask(request: ConsentRequest) -> Decision:
        with lock:
            return consent(request)

    return ask


class ChatModes:
    def __init__(self, chat: ChatService):
        self.chat = chat
        gate = chat.gate
        self.side_gate = OutboundGate(
            one_at_a_time(gate.consent), pricing=gate.pricing, message_budget=gate.message_budget, redact=gate.redact
        )

    def recognised(self, text: str, has_image: bool) -> Recognition | None:
        """The task by the rules backed by the local model, where the settings ask for it (else the router's rules)."""
        if not self.chat.config.router.classify_with_model:
            return None
        return recognise_with(self.chat.registry.local(), text, has_image)

    def message_runner(self, store: Store, scorer: Scorer) -> MessageRunner:
        """A prompt through the cascade, routed by its task like a message the user sent."""
        chat, config = self.chat, self.chat.config
        spare = budget_left(config, store)
        settings = config.settings
        names = [tier.name for tier in config.tiers]

        def answer(prompt: str, task: Task, passage: Passage) -> Iterator[Event]:
            request = router.Request(prompt, recognised=Recognition(task, "the plan gives it this task"))
            route = router.plan(config, request, passage.privacy, spare)
            history = [Message("user", prompt)]
            events = chat.cascade(passage, route, scorer).run(
                lambda provider: build_context(settings.system_prompt, history, provider, settings.max_answer_tokens),
                start_at=names.index(route.start),
            )
            return _with_route(events, route)

        return answer

    def one_model(
        self, model_id: str, messages: list[Message], passage: Passage, scorer: Scorer, max_tokens: int
    ) -> Iterator[Event]:
        """``messages`` to one model alone (still through the gate), as the planner or a chosen synthesiser."""
        chat = self.chat
        tier = next((t.name for t in chat.config.tiers if model_id in t.models), model_id)
        cascade = Cascade(
            [TierPlan(tier, [chat.registry.get(model_id)])],
            scorer=scorer,
            passage=passage,
            max_answer_tokens=max_tokens,
            cooldowns=chat.cooldowns,
        )
        return cascade.run(lambda _: messages)

    def synthesiser(self, model_id: str, scorer: Scorer) -> MessageRunner:
        system = self.chat.config.settings.system_prompt
        tokens = self.chat.config.settings.max_answer_tokens

        def answer(prompt: str, task: Task, passage: Passage) -> Iterator[Event]:
            return self.one_model(
                model_id, [*system_messages(system), Message("user", prompt)], passage, scorer, tokens
            )

        return answer

    def draft_refine(
        self, passage: Passage, history: list[Message], summary: str | None, scorer: Scorer
    ) -> DraftRefineRun:
        """The first local model drafts the last message of ``history``; a stronger allowed model refines it."""
        chat = self.chat
        settings = chat.config.settings
        first = chat.config.tiers[0]
        drafter = Cascade(
            [TierPlan(first.name, [chat.registry.get(first.models[0])])],
            scorer=scorer,
            passage=passage,
            max_answer_tokens=settings.max_answer_tokens,
            cooldowns=chat.cooldowns,
        )

        def context(text: str) -> ContextFn:
            asked = [*history[:-1], Message("user", text, history[-1].images)]
            return lambda provider: build_context(
                settings.system_prompt, asked, provider, settings.max_answer_tokens, summary
            )

        return DraftRefineRun(drafter, chat.cascade(passage, scorer=scorer), context, history[-1].content)

    def ensemble(self, passage: Passage, scorer: Scorer | None = None) -> EnsembleRun:
        """The ensemble's models that the privacy policy lets answer without asking."""
        config = self.chat.config
        settings, ensemble = config.settings, config.ensemble
        model_ids = ensemble.models or [config.tiers[0].models[0]]
        allowed = [provider for m in model_ids if passage.unasked(provider := self.chat.registry.get(m))]
        if not allowed:
            raise HearthError(f"The privacy policy '{passage.privacy.value}' allows none of the ensemble's models.")
        return EnsembleRun(
            [passage.through(provider, "ensemble") for provider in allowed],
            samples=ensemble.samples,
            temperature=ensemble.temperature,
            agreement_weight=ensemble.agreement_weight,
            scorer=scorer or self.chat.scorer,
            max_answer_tokens=settings.max_answer_tokens,
        )

    def rerun_part(
        self, answer_id: int, number: int, scorer: Scorer | None = None, asks: str | None = None
    ) -> Iterator[object]:
        """Run part ``number`` of a stored plan answer again and join the parts anew; the other parts keep
        their results. ``asks``: what the part asks from now on (the user edited the plan); it is stored
        with the part's new attempt, so the plan reads back edited. The new attempts follow the earlier
        ones; if the run is stopped, the answer stays."""
        chat = self.chat
        store = chat._open_store()
        try:
            message = store.message(answer_id)
            rows = store.attempts(answer_id)
            question = store.message(message.after_id).content if message.after_id else ""
            plan = stored_plan(rows, question)
            if plan is None or number not in {part.number for part in plan.parts}:
                raise HearthError(f"Message {answer_id} has no part {number} to run again.")
            if asks is not None:
                plan = edited(plan, number, asks)
            kept = {n: _kept(row) for n, row in part_results(rows).items() if n != number}
            passage = chat.gate.passage(
                store,
                chat.privacy.effective(store, message.conversation_id),
                conversation_id=message.conversation_id,
                message_id=answer_id,
            )
            run = self.plan_run(store, passage, question, scorer or chat.scorer, plan, kept)
            yield from chat.recorder.save_while_streaming(
                store, answer_id, run.run(), trigger="user", keep_partial=False
            )
        finally:
            store.close()

    def plan_run(
        self,
        store: Store,
        passage: Passage,
        request: str,
        scorer: Scorer,
        plan: Plan | None = None,
        kept: dict[int, Answer] | None = None,
    ) -> PlanRun:
        chat, planning = self.chat, self.chat.config.plan
        planner_id = planning.planner or chat.config.tiers[0].models[0]
        tokens = min(PLANNER_TOKENS, chat.config.settings.max_answer_tokens)

        def write_plan() -> Iterator[Event]:
            # The planner's own instructions replace the system prompt: it writes a plan, not an answer.
            return self.one_model(planner_id, planner_messages(request), passage, scorer, tokens)

        @contextmanager
        def side_passage() -> Iterator[Passage]:
            side_store = chat._open_store()
            try:
                yield self.side_gate.alongside(side_store, passage)
            finally:
                side_store.close()

        synthesiser = planning.synthesiser
        return PlanRun(
            request,
            planner=write_plan,
            answer=self.message_runner(store, scorer),
            passage=passage,
            side_passage=side_passage,
            parallel=planning.parallel,
            plan=plan,
            synthesise=self.synthesiser(synthesiser, scorer) if synthesiser else None,
            kept=kept,
        )


def _kept(row: AttemptRow) -> Answer:
    """A part's stored result, as the answer the synthesis joins."""
    return Answer(
        text=row.text,
        tier=row.tier,
        model_id=row.model,
        confidence=row.confidence,
        escalated=False,
        reason="Kept from the earlier run.",
        latency_ms=0.0,
        tokens_in=0,
        tokens_out=0,
        attempts=(),
        complete=True,
    )


def _with_route(events: Iterator[Event], route: router.Route) -> Iterator[Event]:
    """The cascade's events, with the route's reasons (the task, the map's entry) before the first attempt's."""
    for event in events:
        if isinstance(event, Finished) and event.answer.attempts:
            first = event.answer.attempts[0]
            first.reason = f"{' '.join(route.reasons)} {first.reason}".strip()
        yield event
