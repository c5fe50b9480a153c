"""One request to Hearth's local API, answered by the same cascade and outgoing gate the window uses.

- The policy is the user's: a request obeys the app's privacy policy and may only narrow it
  (``"hearth": {"privacy": "local-only"}``). Every remote call passes the outgoing gate and is
  audited "via API (<client>)". Where the policy asks first, the window asks, naming the
  client; with no window nobody can be asked, and the request is refused (409) saying why.
- Nothing of an API conversation is stored but those audit rows unless the user turned on
  keeping them (``[server] keep_history``): then each answered request is kept in the history,
  continuing the conversation it follows (app/core/api/history.py).
- ``hearth`` is the cascade, routed as in the window; any configured model id is that model
  alone, still under the policy.
- A stream carries only the answer Hearth stands behind: when no other model could follow
  (one model, nothing above it the policy lets this request reach) the text streams as it
  is generated; otherwise it is sent once the cascade has chosen its answer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from app.core.answers import Answer, AttemptStarted, Finished, TextDelta
from app.core.api import history
from app.core.api.facts import HearthFacts
from app.core.api.queue import FairQueue
from app.core.api.wire import ChatRequest
from app.core.config.schema import Privacy
from app.core.conversation.budget import budget_left
from app.core.conversation.chat import ChatService
from app.core.conversation.context import TEMPLATE_TOKENS_PER_MESSAGE, system_messages
from app.core.errors import ConsentUnavailable, GateClosed, InvalidInput, ModelError, NotFound, TooLong
from app.core.privacy.gate import ConsentFn, ConsentRequest, Decision, OutboundGate
from app.core.providers.base import Message, Provider, Sampling
from app.core.providers.llama_cpp import LlamaCppProvider
from app.core.routing import router
from app.core.routing.cascade import Cascade, TierPlan
from app.core.storage.store import Store

CASCADE_MODEL = "hearth"


@dataclass(frozen=True)
class Begun:
    """The answer's text starts: from this tier and model."""

    tier: str
    model_id: str


@dataclass(frozen=True)
class Piece:
    text: str
    logprobs: tuple[float, ...]
    alternatives: tuple[tuple[tuple[str, float], ...], ...] = ()  # per token, when the request asked for them


@dataclass(frozen=True)
class Completed:
    facts: HearthFacts
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    error: str | None = None  # set when a streamed answer broke off


ApiEvent = Begun | Piece | Completed


@dataclass(frozen=True)
class Plan:
    tiers: list[TierPlan]
    start: int
    excluded: dict[str, str]
    privacy: Privacy
    messages: list[Message]
    max_tokens: int
    sampling: Sampling

    @property
    def entry(self) -> Provider:
        """The model asked first: the request waits in its line."""
        return self.tiers[self.start].providers[0]


class _NobodyToAsk:
    """Consent where no window is open: the first question is remembered, and the answer is "not now"."""

    def __init__(self) -> None:
        self.asked: ConsentRequest | None = None

    def __call__(self, request: ConsentRequest) -> Decision:
        self.asked = self.asked or request
        return Decision.NOT_NOW


class ApiAnswers:
    def __init__(
        self,
        chat: ChatService,
        open_store: Callable[[], Store],
        consent: ConsentFn | None = None,
        keep_history: bool | None = None,
    ):
        """``consent``: the window's question (None: no window, so nothing that needs consent is sent);
        ``keep_history``: whether answered requests are kept in the history (None: as the configuration says)."""
        self.chat = chat
        self.config = chat.config
        self._open_store = open_store
        self.consent = consent
        self.queue = FairQueue(chat.config.server.queue)
        self._running: set[threading.Event] = set()  # each request's "gone", to end them all on shutdown
        self.closing = False
        self.keep_history = chat.config.server.keep_history if keep_history is None else keep_history
        self.kept: Callable[[int], None] | None = None  # told each conversation kept (from the answering thread)

    def models(self) -> list[tuple[str, str]]:
        """Each model id a request may name, with where it runs."""
        return [
            (CASCADE_MODEL, "hearth"),
            *((model_id, self.config.models[model_id].location.value) for model_id in self.config.chat_model_ids),
        ]

    def stop_all(self) -> None:
        """End every answer in progress at its next token (the server is shutting down)."""
        self.closing = True
        for gone in list(self._running):
            gone.set()

    def in_progress(self) -> int:
        """Requests being answered or waiting for their turn."""
        return len(self.queue)

    def answer(self, request: ChatRequest, client: str, gone: threading.Event) -> Iterator[ApiEvent]:
        """The events of the answer to ``request``; stops within one token once ``gone`` is set.

        Raises (before any event) InvalidInput, NotFound, TooLong, QueueFull, GateClosed,
        ConsentUnavailable or ModelError, each saying what to do.
        """
        self._running.add(gone)
        store = self._open_store()
        try:
            plan = self._plan(request, store)
            with self.queue.turn(plan.entry.model_id, gone) as admitted:
                if admitted:
                    self._check_fit(plan)
                    yield from self._run(plan, store, client, gone)
        finally:
            store.close()
            self._running.discard(gone)

    def _plan(self, request: ChatRequest, store: Store) -> Plan:
        privacy = self._privacy(request)
        messages = [message.message() for message in request.messages]
        if not any(message.role == "user" for message in messages):
            raise InvalidInput("messages: at least one message must have the role 'user'.")
        if not any(message.role == "system" for message in messages):
            messages[:0] = system_messages(self.config.settings.system_prompt)
        sampling = Sampling(
            temperature=request.temperature, seed=request.seed, stop=request.stops, top_logprobs=request.alternatives
        )
        max_tokens = request.answer_tokens or self.config.settings.max_answer_tokens
        if request.model == CASCADE_MODEL:
            question = next(m for m in reversed(messages) if m.role == "user")
            images = any(message.images for message in messages)
            route = router.plan(
                self.config, router.Request(question.content, images), privacy, budget_left(self.config, store)
            )
            names = [tier.name for tier in self.config.tiers]
            return Plan(
                self.chat.tiers(), names.index(route.start), route.excluded, privacy, messages, max_tokens, sampling
            )
        if request.model not in self.config.chat_model_ids:
            known = ", ".join(model_id for model_id, _ in self.models())
            raise NotFound(f"There is no model '{request.model}' in Hearth. The models are: {known}.")
        tier = next((t.name for t in self.config.tiers if request.model in t.models), request.model)
        only = TierPlan(tier, [self.chat.registry.get(request.model)])
        return Plan([only], 0, {}, privacy, messages, max_tokens, sampling)

    def _privacy(self, request: ChatRequest) -> Privacy:
        """The user's policy, or a narrower one the request asks for."""
        users = self.config.settings.privacy
        asked = request.hearth.privacy if request.hearth else None
        if asked is None:
            return users
        if asked.wider_than(users):
            raise InvalidInput(
                f"hearth.privacy '{asked.value}' is wider than the user's privacy policy '{users.value}'; "
                "a program may narrow the policy, never widen it."
            )
        return asked

    @staticmethod
    def _check_fit(plan: Plan) -> None:
        """TooLong when the messages do not fit the first model; ModelError when it cannot load."""
        entry = plan.entry
        if isinstance(entry, LlamaCppProvider):
            entry.load()
        # Every token covers at least one byte of the text, so messages of fewer bytes than the model reads
        # surely fit: counting their tokens (the model's tokenizer, under its lock) would only delay the answer.
        most = sum(len(m.content.encode()) + TEMPLATE_TOKENS_PER_MESSAGE for m in plan.messages)
        if most < entry.n_ctx:
            return
        tokens = sum(entry.count_tokens(m.content) + TEMPLATE_TOKENS_PER_MESSAGE for m in plan.messages)
        if tokens >= entry.n_ctx:
            raise TooLong(
                f"The messages are about {tokens} tokens; {entry.model_id} reads at most {entry.n_ctx}. "
                "Send fewer or shorter messages, or ask a model with a larger context window."
            )

    def _run(self, plan: Plan, store: Store, client: str, gone: threading.Event) -> Iterator[ApiEvent]:
        nobody = _NobodyToAsk() if self.consent is None else None
        settings = self.config.settings
        gate = OutboundGate(
            self.consent or nobody,
            pricing=self.chat.pricing,
            message_budget=settings.message_budget,
            redact=settings.redact,
        )
        passage = gate.passage(store, plan.privacy, client=client)
        cascade = Cascade(
            plan.tiers,
            scorer=self.chat.scorer,
            passage=passage,
            max_answer_tokens=plan.max_tokens,
            excluded=plan.excluded,
            cooldowns=self.chat.cooldowns,
            sampling=plan.sampling,
        )
        live = len(plan.tiers[plan.start].providers) == 1 and cascade.next_allowed(plan.start)[0] is None
        held: dict[int, list[TextDelta]] = {}
        started: AttemptStarted | None = None
        begun = False
        answer: Answer | None = None
        events = cascade.run(lambda _: plan.messages, start_at=plan.start)
        try:
            for event in events:
                if gone.is_set():
                    return
                if isinstance(event, AttemptStarted):
                    started = event
                elif isinstance(event, TextDelta) and live and started is not None:
                    if not begun:
                        begun = True
                        yield Begun(started.tier, started.model_id)
                    yield Piece(event.text, event.logprobs, event.alternatives)
                elif isinstance(event, TextDelta):
                    held.setdefault(event.index, []).append(event)
                elif isinstance(event, Finished):
                    answer = event.answer
        except GateClosed as exc:
            if nobody is not None and nobody.asked is not None:
                raise ConsentUnavailable(_nobody_to_ask(nobody.asked, plan.privacy)) from None
            raise GateClosed(f"Nothing could answer: {exc}") from None
        finally:
            events.close()
        assert answer is not None
        for event in self._ending(answer, held, begun, nobody, plan.privacy):
            if isinstance(event, Completed) and event.error is None and self.keep_history:
                conversation_id = history.keep(store, client, plan.messages, answer)
                if self.kept is not None:
                    self.kept(conversation_id)
            yield event

    def _ending(
        self,
        answer: Answer,
        held: dict[int, list[TextDelta]],
        begun: bool,
        nobody: _NobodyToAsk | None,
        privacy: Privacy,
    ) -> Iterator[ApiEvent]:
        pricing = self.chat.pricing
        facts = HearthFacts.of(answer, lambda a: pricing.cost(a.model_id, a.tokens_in, a.tokens_out))
        index = _final_index(answer)
        final = answer.attempts[index]
        if not begun:
            if nobody is not None and nobody.asked is not None:
                raise ConsentUnavailable(_nobody_to_ask(nobody.asked, privacy))
            if not answer.complete:
                raise ModelError(f"No model could answer. {answer.reason}")
            yield Begun(answer.tier, answer.model_id)
            for delta in held.get(index, []):
                yield Piece(delta.text, delta.logprobs, delta.alternatives)
        error = None if answer.complete else f"The answer broke off. {answer.reason}"
        yield Completed(facts, final.finish_reason or "stop", final.tokens_in, final.tokens_out, error)


def _final_index(answer: Answer) -> int:
    """Which attempt's answer is the one shown."""
    for index in reversed(range(len(answer.attempts))):
        attempt = answer.attempts[index]
        if attempt.model_id == answer.model_id and attempt.tier == answer.tier and attempt.text == answer.text:
            return index
    return len(answer.attempts) - 1


def _nobody_to_ask(request: ConsentRequest, privacy: Privacy) -> str:
    why = f"{request.why} " if request.why else ""
    return (
        f"{why}The privacy policy '{privacy.value}' asks the user before anything goes to {request.model_id} at "
        f"{request.host} ({request.location.value}), and no Hearth window is open to ask. Turn the API on in "
        'Hearth\'s window (Tools → Local API) to be asked there, or send "hearth": {"privacy": '
        '"local-and-self-hosted"} to keep the request on the user\'s own machines.'
    )
