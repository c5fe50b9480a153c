"""ChatService: one message from the user to a stored, scored answer.

``send`` is a generator of cascade events. It stores the user's message at
once, saves the answer as it streams (at most once a second, so the disk is
not hit per token), and records every attempt at the end. If the caller
stops early, or anything fails, what was received so far is kept and the
answer is marked incomplete.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from app.core.answers import Answer, Event
from app.core.confidence.calibration import Scorer
from app.core.config.schema import Config, Privacy
from app.core.conversation import compare
from app.core.conversation.attachments import image_url, sort_attachments
from app.core.conversation.background import BackgroundTasks
from app.core.conversation.budget import budget_left
from app.core.conversation.context import build_context, recent_history
from app.core.conversation.experiments import Experiments, quiet_passage
from app.core.conversation.learning.labels import Verdict
from app.core.conversation.learning.learner import Learner
from app.core.conversation.own_privacy import ConversationPrivacy
from app.core.conversation.recording import AnswerRecorder
from app.core.conversation.rests import Rests
from app.core.conversation.summary import summary_job
from app.core.conversation.teamwork.chat_modes import ChatModes
from app.core.conversation.teamwork.plans import Plan
from app.core.documents.answering import Cited, DocumentContext, document_privacy, grounding_again, grounding_for
from app.core.documents.grounding import Grounding
from app.core.documents.library import Library
from app.core.errors import HearthError
from app.core.privacy.gate import ConsentFn, OutboundGate, Passage
from app.core.providers.base import Message, Provider
from app.core.providers.pricing import Pricing
from app.core.providers.registry import ProviderRegistry
from app.core.routing import router
from app.core.routing.cascade import Cascade, ContextFn, TierPlan
from app.core.routing.retry import Cooldowns
from app.core.routing.stronger import answered_tier, stronger_tier
from app.core.storage.rows import MessageRow
from app.core.storage.store import Store, Turn

TITLE_LENGTH = 60


@dataclass(frozen=True)
class UserMessageSaved:
    conversation_id: int
    message_id: int
    answer_id: int


@dataclass(frozen=True)
class Routed:
    route: router.Route


ChatEvent = Event | UserMessageSaved | Routed | Cited


class ChatService:
    def __init__(
        self,
        config: Config,
        registry: ProviderRegistry,
        store: Callable[[], Store],
        consent: ConsentFn | None = None,
        scorer: Scorer | None = None,
        library: Library | None = None,
        learner: Learner | None = None,
    ):
        """``store`` opens a Store for the calling thread (SQLite connections stay on their thread)."""
        self.config = config
        self.library = library
        self.registry = registry
        self._open_store = store
        self.scorer = scorer or Scorer(config.settings.threshold)
        self.learner = learner  # the user's verdicts, as labels for the confidence
        self.pricing = Pricing(config)
        settings = config.settings
        self.gate = OutboundGate(
            consent, pricing=self.pricing, message_budget=settings.message_budget, redact=settings.redact
        )
        self.background = BackgroundTasks()  # shadow runs and summaries, after the answer
        # Failing models rest across messages, on the wall clock: the rests are recorded for the next run too.
        self.cooldowns = Cooldowns(clock=time.time)
        self.recorder = AnswerRecorder(config, self.pricing, self.cooldowns)
        self.privacy = ConversationPrivacy(config, store, library)
        self.rests = Rests(self.cooldowns, store)
        self.experiments = Experiments(config, registry, store, self.gate, self.pricing, self.background)
        self.modes = ChatModes(self)  # plan, draft-and-refine and ensemble

    def tiers(self) -> list[TierPlan]:
        return [
            TierPlan(tier.name, [self.registry.get(model_id) for model_id in tier.models]) for tier in self.config.tiers
        ]

    def cascade(self, passage: Passage, route: router.Route | None = None, scorer: Scorer | None = None) -> Cascade:
        """A cascade over the tiers, less those the router ruled out for this message."""
        return Cascade(
            self.tiers(),
            passage=passage,
            excluded=route.excluded if route else None,
            cooldowns=self.cooldowns,
            scorer=scorer or self.scorer,
            max_answer_tokens=self.config.settings.max_answer_tokens,
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
        documents: Sequence[str] = (),
        plan: bool | Plan = False,
        refine: bool = False,
    ) -> Iterator[ChatEvent]:
        """Send ``text`` with its attachments (images, text files); with ``replaces``, as an edited
        version of that user message (a new branch); answered from the collections ``documents``;
        with ``plan``, in plan mode (app/core/conversation/teamwork/): True lets the planner write the plan, a Plan
        (one the user edited) is run as it is; with ``refine``, the local model drafts and a stronger
        allowed model refines the draft. ``privacy`` overrides the conversation's policy for this
        message; a new conversation keeps it as its own."""
        store = self._open_store()
        try:
            policy = self.privacy.effective(store, conversation_id, privacy)
            own = privacy if conversation_id is None else None
            grounding = grounding_for(self.library, documents, text, self.config.documents.chunks)
            way = "refine" if refine else plan
            yield from self._send(
                store, conversation_id, text, policy, own, quick, attachments, replaces, grounding, way
            )
        finally:
            store.close()

    def _send(
        self,
        store: Store,
        conversation_id: int | None,
        text: str,
        privacy: Privacy,
        own: Privacy | None,
        quick: bool,
        paths: Sequence[Path],
        replaces: int | None,
        grounding: Grounding | None,
        plan: bool | Plan | str = False,
    ) -> Iterator[ChatEvent]:
        # Everything that can refuse the message does so before anything is stored.
        privacy = document_privacy(privacy, grounding)
        attached = sort_attachments(paths)
        urls = tuple(image_url(path) for path in attached.images)
        content = attached.message_text(text)
        request = router.Request(content, bool(urls), quick, self.modes.recognised(content, bool(urls)))
        route = router.plan(self.config, request, privacy, budget_left(self.config, store))
        arm = self.experiments.arm(store, conversation_id)
        if grounding is not None and grounding.local_only:  # its answers quote local-only text: they stay here
            own = Privacy.LOCAL_ONLY
            if conversation_id is not None:
                store.set_conversation_privacy(conversation_id, own.value)
        turn = store.begin_turn(
            conversation_id,
            content,
            route.as_dict(),
            title=_title(text or content),
            arm=arm,
            privacy=own.value if own else None,
            attachments=[str(path) for path in attached.images],
            replaces=replaces,
            collections=grounding.names if grounding is not None else (),
        )
        planned = plan or (self.config.plan.automatic and request.recognition.multi_part and not urls)
        yield from self._answer(store, turn, urls, route, privacy, arm, grounding, planned)

    def regenerate(self, answer_id: int, *, privacy: Privacy | None = None) -> Iterator[ChatEvent]:
        """Answer the same question again as a new version; the earlier answer stays, one switch away."""
        store = self._open_store()
        try:
            answer = store.message(answer_id)
            if answer.role != "assistant" or answer.after_id is None:
                raise HearthError("Only an answer can be regenerated.")
            question = store.message(answer.after_id)
            conversation = store.conversation(answer.conversation_id)
            grounding = grounding_again(self.library, question, self.config.documents.chunks)
            policy = document_privacy(self.privacy.effective(store, conversation.id, privacy), grounding)
            files = [Path(p) for p in json.loads(question.attachments or "[]") if Path(p).exists()]
            urls = tuple(image_url(path) for path in files)
            request = router.Request(question.content, bool(files), False)
            route = router.plan(self.config, request, policy, budget_left(self.config, store))
            new_answer = store.add_answer(conversation.id, route.as_dict(), version_of=answer_id)
            turn = Turn(conversation.id, question.id, new_answer)
            yield from self._answer(store, turn, urls, route, policy, conversation.arm, grounding)
        finally:
            store.close()

    def _answer(
        self,
        store: Store,
        turn: Turn,
        urls: tuple[str, ...],
        route: router.Route,
        privacy: Privacy,
        arm: str,
        grounding: Grounding | None = None,
        plan: bool | Plan | str = False,
    ) -> Iterator[ChatEvent]:
        conversation_id, answer_id = turn.conversation_id, turn.answer_id
        scorer, mode = self.experiments.arm_settings(arm, self.scorer)
        history, summary = self._history(store, conversation_id, through=turn.question_id)
        history[-1] = Message("user", history[-1].content, urls)
        yield UserMessageSaved(conversation_id, turn.question_id, answer_id)
        yield Routed(route)

        passage = self.gate.passage(store, privacy, conversation_id=conversation_id, message_id=answer_id)
        documents = DocumentContext(grounding, passage) if grounding is not None else None
        scorer = documents.scorer(scorer) if documents is not None else scorer
        context = self._context(history, summary, documents)
        if plan == "refine":
            events = self.modes.draft_refine(passage, history, summary, scorer).run()
        elif plan:
            given = plan if isinstance(plan, Plan) else None
            events = self.modes.plan_run(store, passage, history[-1].content, scorer, given).run()
        elif mode == "ensemble":
            events = self.modes.ensemble(passage, scorer).run(context)
        else:
            start = [tier.name for tier in self.config.tiers].index(route.start)
            events = self.cascade(passage, route, scorer).run(context, start_at=start)
        answer = yield from self._saved(store, answer_id, events, documents, "auto")
        if answer is not None and answer.complete:
            privacy = passage.privacy  # narrowed if the user said "never" on the way
            self.experiments.maybe_shadow(conversation_id, answer_id, answer, context, privacy, scorer)
            summary = summary_job(
                self.registry.first(), conversation_id, self._open_store, quiet_passage(self.gate, privacy, "summary")
            )
            self.background.submit(summary)

    def _saved(
        self,
        store: Store,
        answer_id: int,
        events: Iterator[Event],
        documents: DocumentContext | None,
        trigger: str,
        keep_partial: bool = True,
    ) -> Generator[ChatEvent, None, Answer | None]:
        """The answer saved while it streams; drawn from documents, it says so when they held nothing
        relevant and is stored with the sources its model was given."""
        events = documents.noted(events) if documents is not None else events
        answer = yield from self.recorder.save_while_streaming(store, answer_id, events, trigger, keep_partial)
        if documents is not None and answer is not None:
            yield documents.cite(store, answer_id, answer.model_id)
        return answer

    def close(self) -> None:
        """Let a background job in progress finish (it holds a model and a database connection)."""
        self.background.close()

    def stronger(self, answer_id: int, *, privacy: Privacy | None = None) -> str:
        """The tier "ask a stronger model" would go to: strictly above the one whose answer is on show.

        Raises NoStrongerModel, saying whether none is configured or none is allowed.
        """
        store = self._open_store()
        try:
            return self._stronger(store, store.message(answer_id), privacy)[2]
        finally:
            store.close()

    def _stronger(
        self, store: Store, answer: MessageRow, privacy: Privacy | None, comparing: bool = False
    ) -> tuple[Cascade, int, str, DocumentContext | None]:
        """The cascade to answer again on, the tier on show, the tier to start at, and the question's
        documents (a local-only collection keeps the answer on this computer)."""
        if answer.role != "assistant" or answer.after_id is None:
            raise HearthError("Only an answer can be asked again.")
        grounding = grounding_again(self.library, store.message(answer.after_id), self.config.documents.chunks)
        policy = document_privacy(self.privacy.effective(store, answer.conversation_id, privacy), grounding)
        purpose = "compare" if comparing else "re-ask"
        passage = self.gate.passage(
            store, policy, conversation_id=answer.conversation_id, message_id=answer.id, purpose=purpose
        )
        documents = DocumentContext(grounding, passage) if grounding is not None else None
        cascade = self.cascade(passage, scorer=documents.scorer(self.scorer) if documents is not None else None)
        names = [tier.name for tier in self.config.tiers]
        current = answered_tier(store.attempts(answer.id), answer.content, names)
        start = compare.other_tier(cascade, current) if comparing else stronger_tier(cascade, current)
        return cascade, current, names[start], documents

    def reask(self, answer_id: int, *, privacy: Privacy | None = None) -> Iterator[ChatEvent]:
        """Ask a strictly higher tier that the policy allows to answer again ("ask a stronger model"),
        from the same documents.

        The cascade's own decision is recorded as a routing miss. If the new
        answer is interrupted or fails, the earlier one stays as it was.
        """
        store = self._open_store()
        try:
            message = store.message(answer_id)
            cascade, current, target, documents = self._stronger(store, message, privacy)
            history, summary = self._history(store, message.conversation_id, through=message.after_id)
            names = [tier.name for tier in self.config.tiers]
            store.add_routing_event(answer_id, "user-escalation", names[current], target)
            if self.learner is not None:
                self.learner.verdict(store, answer_id, Verdict.STRONGER)  # the answer on show was not enough
            events = cascade.run(self._context(history, summary, documents), start_at=names.index(target))
            yield from self._saved(store, answer_id, events, documents, "user", keep_partial=False)
        finally:
            store.close()

    def compare(self, answer_id: int, *, privacy: Privacy | None = None) -> Iterator[ChatEvent]:
        """Answer the message again on another tier the policy allows, beside the answer on show (app/core/compare),
        from the same documents."""
        store = self._open_store()
        try:
            message = store.message(answer_id)
            cascade, _, target, documents = self._stronger(store, message, privacy, comparing=True)
            history, summary = self._history(store, message.conversation_id, through=message.after_id)
            events = compare.only(cascade, target).run(self._context(history, summary, documents))
            yield from self.recorder.save_while_streaming(store, answer_id, events, "user", False, shows=False)
        finally:
            store.close()

    def _history(self, store: Store, conversation_id: int, through: int | None) -> tuple[list[Message], str | None]:
        longest = max(model.n_ctx for model in self.config.models.values())
        return recent_history(store, conversation_id, through, longest)

    def _context(
        self, history: list[Message], summary: str | None = None, documents: DocumentContext | None = None
    ) -> ContextFn:
        settings = self.config.settings

        def context(provider: Provider) -> list[Message]:
            prompt = settings.system_prompt
            if documents is not None:
                prompt = documents.system_prompt(provider, prompt, settings.max_answer_tokens)
            return build_context(prompt, history, provider, settings.max_answer_tokens, summary)

        return context


def _title(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= TITLE_LENGTH else line[: TITLE_LENGTH - 1].rstrip() + "…"
