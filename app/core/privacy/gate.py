"""The outgoing gate: every request that leaves this computer passes here, just before it leaves.

Why nothing can go around it: an HTTP provider (app/core/providers/remote.py) opens no
connection unless it is handed a ``Clearance`` for itself and for exactly the messages it
is about to send, and only ``Passage.clear`` issues one. So whatever asks a remote model —
each model of a tier, every retry, "ask a stronger model", an ensemble member, a shadow
run, a summary, an evaluation, or a feature added later — went through ``Passage.clear``
for that very destination and those very bytes, or it fails before a byte leaves. Callers
stream through ``Passage.through(provider)``, which clears each request, redacts it,
writes its audit row before it goes, and restores the reply.

What ``clear`` decides, for that destination alone, in this order:

1. its own location against the effective policy (the app's, the conversation's, or the
   one given for this message): a forbidden destination is skipped;
2. an API key it needs and does not have: skipped, saying how to add it, before anything
   is asked;
3. the per-message budget, from the estimated cost of exactly what would be sent;
4. consent, where the policy asks: a request naming that destination's model, address and
   estimated cost and showing the exact (redacted) messages. The answer covers that
   destination only: "Send once" — this message, to it; "Always for this conversation" —
   it and no other destination, remembered for the conversation as a model at an
   address; "Never for this conversation" — the conversation's policy is narrowed so that
   location is never asked again; "Not now" — this message stays here, and nothing more
   is asked about it.

A passage is one answer's (or one background job's) way out: the policy in force, the
redaction placeholders shared by every destination of that answer, and the approvals
given. It uses the store of the thread it runs on. Background work passes ``ask=False``:
it only reaches destinations the policy allows without asking. The parts of one message
that run on threads of their own (plan mode) each have a passage ``alongside`` the
message's own, sharing its ``Consents``: a "never" or "not now" said for one part holds
for every other part and for what joins them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, runtime_checkable
from urllib.parse import urlsplit

from app.core.config.schema import Location, Privacy
from app.core.errors import GateClosed, HearthError
from app.core.privacy.outbound import StreamRestorer, payload_fingerprint
from app.core.privacy.policy import Allowance, allowance, narrowed
from app.core.privacy.redaction import Redaction
from app.core.providers.base import Chunk, Message, Provider, Sampling, Usage
from app.core.providers.pricing import Pricing
from app.core.storage.outbound_records import OutboundRecords

if TYPE_CHECKING:
    from app.core.storage.store import Store


@runtime_checkable
class Destination(Provider, Protocol):
    """A provider whose requests leave this computer."""

    address: str  # where its requests go: the base URL
    missing_key: str | None  # why it cannot be used yet, when it needs an API key it does not have

    def stream(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int,
        sampling: Sampling | None = None,
        clearance: Clearance | None = None,
    ) -> Iterator[Chunk]: ...


_ISSUER = object()  # only this module can issue a Clearance


@dataclass(frozen=True)
class Clearance:
    """Leave to send exactly ``messages`` to ``provider``, decided by the gate."""

    provider: Destination
    messages: tuple[Message, ...]
    fingerprint: str  # SHA-256 of the messages, as recorded in the audit
    policy: Privacy
    basis: str  # why it may go: the policy, or the user's approval
    estimated_cost: float
    issuer: object = field(repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        if self.issuer is not _ISSUER:
            raise TypeError("Only the outgoing gate (app/core/privacy/gate.py) issues clearances.")

    def admits(self, provider: object, messages: Sequence[Message]) -> bool:
        return provider is self.provider and payload_fingerprint(messages) == self.fingerprint


class Decision(StrEnum):
    ONCE = "once"  # this message, to this destination
    ALWAYS = "always"  # this destination, for the rest of the conversation
    NEVER = "never"  # nothing of this conversation to this kind of destination
    NOT_NOW = "not-now"  # this message stays on this computer


@dataclass(frozen=True)
class ConsentRequest:
    """What the user is asked: this one destination, what it may cost, and exactly what would go."""

    model_id: str
    location: Location
    destination: str  # the provider's label: its model at its address
    address: str
    purpose: str  # the tier (or the job) that would use it
    messages: Sequence[Message]
    estimated_cost: float
    why: str = ""  # what led here: the local answer was unsure, an earlier destination failed
    client: str | None = None  # the program that asked through Hearth's local API (its User-Agent)

    @property
    def host(self) -> str:
        return urlsplit(self.address).hostname or self.address or self.destination


ConsentFn = Callable[[ConsentRequest], Decision]

# What led to a question, when the caller did not say: by what the passage is for.
_WHY = {
    "answer": "The local answer was unsure.",
    "re-ask": "You asked for a stronger model.",
    "evaluation": "The evaluation asks this model each question.",
}


def _keep_here(_: ConsentRequest) -> Decision:
    return Decision.NOT_NOW


class OutboundGate:
    """The session's side of the gate: how consent is asked, what things cost, the per-message budget."""

    def __init__(
        self,
        consent: ConsentFn | None = None,
        *,
        pricing: Pricing | None = None,
        message_budget: float | None = None,
        redact: bool = True,
    ):
        self.consent = consent or _keep_here
        self.pricing = pricing
        self.message_budget = message_budget
        self.redact = redact

    def passage(
        self,
        store: Store,
        privacy: Privacy,
        *,
        conversation_id: int | None = None,
        message_id: int | None = None,
        purpose: str = "answer",
        ask: bool = True,
        client: str | None = None,
    ) -> Passage:
        """``client``: the program this passage answers through the local API (recorded "via API")."""
        return Passage(self, store, privacy, conversation_id, message_id, purpose, ask, client)

    def alongside(self, store: Store, main: Passage) -> Passage:
        """A way out for a part of ``main``'s message on a thread of its own: the user's answers are shared."""
        m = main
        return Passage(self, store, m.privacy, m.conversation_id, m.message_id, m.purpose, m.ask, m.client, m.consents)


@dataclass
class Consents:
    """What the user answered about one message's destinations, and the policy those answers narrowed."""

    privacy: Privacy
    conversation: set[tuple[str, str]]  # model, address: approved for the conversation
    this_message: set[tuple[str, str, str]] = field(default_factory=set)  # model, address, payload fingerprint
    kept_here: str | None = None  # set once the user said "not now"


def destination(provider: Provider) -> Destination:
    if not isinstance(provider, Destination):
        raise TypeError(f"{provider.model_id} runs at '{provider.location}' but does not say where it sends")
    return provider


class Passage:
    def __init__(
        self,
        gate: OutboundGate,
        store: Store,
        privacy: Privacy,
        conversation_id: int | None,
        message_id: int | None,
        purpose: str,
        ask: bool,
        client: str | None = None,
        consents: Consents | None = None,
    ):
        self.gate = gate
        self.store = store
        self.records = OutboundRecords(store)
        self.conversation_id = conversation_id
        self.message_id = message_id
        self.purpose = purpose
        self.ask = ask
        self.client = client
        self.redaction = Redaction()
        if consents is None:
            approved = self.records.approved(conversation_id) if conversation_id is not None else set()
            consents = Consents(privacy, approved)
        self.consents = consents
        # Per model: the document collections and chunks its request carries, for the audit.
        self.documents: dict[str, dict[str, object]] = {}

    @property
    def privacy(self) -> Privacy:
        """The policy in force: the one given, narrowed by every "never" the user said on the way."""
        return self.consents.privacy

    def through(self, provider: Provider, purpose: str | None = None) -> Provider:
        """``provider`` as this passage lets it be used (a local one as it is)."""
        if provider.location is Location.LOCAL:
            return provider
        return GatedProvider(destination(provider), self, purpose or self.purpose)

    def barrier(self, provider: Provider) -> str | None:
        """Why nothing may go to ``provider``, known without asking anyone; None if it may be tried."""
        if provider.location is Location.LOCAL:
            return None
        rule = allowance(self.privacy, provider.location)
        if rule is Allowance.FORBIDDEN:
            return f"the privacy policy '{self.privacy.value}' does not allow it"
        remote = destination(provider)
        if remote.missing_key:
            return remote.missing_key
        kept_here = self.consents.kept_here
        if rule is Allowance.ASK and kept_here and not self._approved_for_good(remote):
            return kept_here
        return None

    def unasked(self, provider: Provider) -> bool:
        """Whether ``provider`` may be sent this message without asking the user."""
        if self.barrier(provider) is not None:
            return False
        return provider.location is Location.LOCAL or allowance(self.privacy, provider.location) is Allowance.ALLOWED

    def check(self, provider: Provider, messages: Sequence[Message], why: str = "") -> None:
        """Decide now, asking the user if the policy says so, whether ``messages`` may go to ``provider``."""
        if provider.location is not Location.LOCAL:
            self.clear(destination(provider), messages, why)

    def clear(self, provider: Destination, messages: Sequence[Message], why: str = "") -> Clearance:
        """The gate. Raises GateClosed, saying why, when the messages may not go to this destination."""
        barrier = self.barrier(provider)
        if barrier:
            raise GateClosed(barrier)
        outgoing = tuple(
            replace(m, content=self.redaction.redact(m.content)) if self.gate.redact else m for m in messages
        )
        fingerprint = payload_fingerprint(outgoing)
        cost = self.gate.pricing.estimate(provider, outgoing) if self.gate.pricing else 0.0
        budget = self.gate.message_budget
        if budget is not None and cost > budget:
            raise GateClosed(f"it would cost about ${cost:.4f}, over the per-message budget of ${budget:.4f}")
        basis = self._basis(provider, outgoing, fingerprint, cost, why)
        return Clearance(provider, outgoing, fingerprint, self.privacy, basis, cost, _ISSUER)

    def _approved_for_good(self, provider: Destination) -> bool:
        return (provider.model_id, provider.address) in self.consents.conversation

    def _basis(
        self, provider: Destination, outgoing: tuple[Message, ...], fingerprint: str, cost: float, why: str
    ) -> str:
        if allowance(self.privacy, provider.location) is Allowance.ALLOWED:
            return f"allowed by the privacy policy '{self.privacy.value}'"
        if self._approved_for_good(provider):
            return "approved for this conversation"
        if (provider.model_id, provider.address, fingerprint) in self.consents.this_message:
            return "approved for this message"
        if not self.ask:
            raise GateClosed(
                f"the privacy policy '{self.privacy.value}' asks before anything goes to {provider.location.value} "
                "models, and this runs without asking"
            )
        why = why or _WHY.get(self.purpose, "")
        request = ConsentRequest(
            provider.model_id,
            provider.location,
            provider.label,
            provider.address,
            self.purpose,
            outgoing,
            cost,
            why,
            self.client,
        )
        return self._decided(self.gate.consent(request), provider, fingerprint)

    def _decided(self, decision: Decision, provider: Destination, fingerprint: str) -> str:
        """What the user's answer means: the one rule the window and the terminal both follow."""
        key = (provider.model_id, provider.address)
        if decision is Decision.ONCE:
            self.consents.this_message.add((*key, fingerprint))
            return "approved for this message"
        if decision is Decision.ALWAYS:
            self.consents.conversation.add(key)
            if self.conversation_id is not None:
                self.records.approve(self.conversation_id, *key, provider.location.value)
            return "approved for this conversation"
        if decision is Decision.NEVER:
            self.consents.privacy = narrowed(self.privacy, provider.location)
            if self.conversation_id is not None:
                self.store.set_conversation_privacy(self.conversation_id, self.privacy.value)
            raise GateClosed(
                f"you chose never to send this conversation to {provider.location.value} models "
                f"(it is now '{self.privacy.value}')"
            )
        self.consents.kept_here = "not asked: you chose to keep this message on your computer"
        raise GateClosed(f"you did not approve sending it to {provider.model_id}")


class GatedProvider:
    """A destination seen through a passage: each request cleared, redacted and audited; the reply restored."""

    def __init__(self, inner: Destination, passage: Passage, purpose: str):
        self.inner = inner
        self.passage = passage
        self.purpose = purpose
        self.model_id = inner.model_id
        self.location = inner.location
        self.n_ctx = inner.n_ctx
        self.last: Clearance | None = None  # what the latest request was cleared to send

    @property
    def label(self) -> str:
        return self.inner.label

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def close(self) -> None:
        self.inner.close()

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int, sampling: Sampling | None = None
    ) -> Iterator[Chunk]:
        passage = self.passage
        clearance = passage.clear(self.inner, messages)
        self.last = clearance
        row = passage.records.sending(
            conversation_id=passage.conversation_id,
            message_id=passage.message_id,
            purpose=self.purpose,
            model=self.model_id,
            location=self.location.value,
            address=self.inner.address,
            destination=self.label,
            policy=clearance.policy.value,
            basis=clearance.basis,
            payload_sha256=clearance.fingerprint,
            redacted=dict(passage.redaction.found),
            estimated_cost=clearance.estimated_cost,
            documents=passage.documents.get(self.model_id),
            via=f"API ({passage.client})" if passage.client is not None else None,
        )
        restorer = StreamRestorer(passage.redaction)
        outcome, usage = "stopped before the end", Usage(0, 0)
        stream = self.inner.stream(
            list(clearance.messages), max_tokens=max_tokens, sampling=sampling, clearance=clearance
        )
        try:
            for chunk in stream:
                usage = chunk.usage or usage
                text = restorer.feed(chunk.text)
                if chunk.finish_reason is not None:
                    text += restorer.flush()
                yield replace(chunk, text=text)
            outcome = "answered"
        except HearthError as exc:
            outcome = str(exc)
            raise
        finally:
            stream.close()
            pricing = passage.gate.pricing
            cost = pricing.cost(self.model_id, usage.prompt_tokens, usage.completion_tokens) if pricing else 0.0
            passage.records.sent(row, outcome, cost)
