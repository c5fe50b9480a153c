"""An answer over the user's documents: the chunks in each model's context, its sources, its confidence.

The chunks travel inside the messages, so everything the gate does to a message it does
to them: the consent preview shows them, redaction applies to them, and the audit row
names the collections and chunk ids that went (``Passage.documents``). A local-only
collection narrows the message's policy to local-only, whatever the app's or the
conversation's. When no chunk shares a word with the question, the answer's confidence
is held below its threshold and the answer says its documents did not cover it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from app.core.answers import Event, Finished
from app.core.confidence.calibration import Scorer
from app.core.confidence.signals import Signals
from app.core.config.schema import Privacy
from app.core.documents.grounding import Fitted, Grounding
from app.core.documents.library import Library
from app.core.documents.sources import Source
from app.core.errors import HearthError
from app.core.privacy.gate import Passage
from app.core.providers.base import Provider
from app.core.storage.rows import MessageRow
from app.core.storage.store import Store

# Without a relevant chunk, confidence is held at this share of the threshold: unsure, and escalated where allowed.
UNSUPPORTED_SHARE = 0.5


@dataclass(frozen=True)
class Cited:
    """The document sources an answer drew on, as stored with it."""

    answer_id: int
    sources: list[Source]
    note: str | None = None  # said when the documents held nothing relevant


def grounding_for(library: Library | None, names: Sequence[str], question: str, limit: int) -> Grounding | None:
    """What the collections ``names`` hold for the question (None when the message uses none)."""
    if not names:
        return None
    if library is None:
        raise HearthError("Document collections are not available here.")
    return library.ground(names, question, limit)


def grounding_again(library: Library | None, question: MessageRow, limit: int) -> Grounding | None:
    """What the collections a question was asked over hold for it now, to answer it again (Regenerate,
    Ask a stronger model, Compare): those of them that still exist; None when it used none."""
    names = json.loads(question.collections) if question.collections else []
    if not names or library is None:
        return None
    existing = {collection.name for collection in library.collections()}
    kept = [name for name in names if name in existing]
    return library.ground(kept, question.content, limit) if kept else None


class DocumentContext:
    """The documents of one message, fitted to each model that is asked."""

    def __init__(self, grounding: Grounding, passage: Passage):
        self.grounding = grounding
        self.passage = passage
        self.fitted: dict[str, Fitted] = {}

    def system_prompt(self, provider: Provider, base: str, answer_tokens: int) -> str:
        fitted = self.grounding.fit(provider, base, answer_tokens)
        self.fitted[provider.model_id] = fitted
        self.passage.documents[provider.model_id] = fitted.audit()
        return f"{base}\n\n{fitted.text}" if fitted.text else base

    def cite(self, store: Store, answer_id: int, model_id: str) -> Cited:
        """Record with the answer what its model (``model_id``) was given, to cite."""
        fitted = self.fitted.get(model_id)
        sources = fitted.sources if fitted else []
        store.set_message_meta(answer_id, sources=[source.model_dump() for source in sources])
        return Cited(answer_id, sources, self.grounding.note())

    def scorer(self, base: Scorer) -> Scorer:
        return base if self.grounding.found_relevant else UnsupportedScorer(base)

    def noted(self, events: Iterator[Event]) -> Iterator[Event]:
        """The events, with the final answer's warning saying so when the documents held nothing relevant."""
        note = self.grounding.note()
        for event in events:
            if note and isinstance(event, Finished):
                warning = f"{note} {event.answer.warning}" if event.answer.warning else note
                event = Finished(replace(event.answer, warning=warning))
            yield event


def document_privacy(privacy: Privacy, grounding: Grounding | None) -> Privacy:
    """A message carrying a local-only collection's text never leaves this computer."""
    return Privacy.LOCAL_ONLY if grounding is not None and grounding.local_only else privacy


class UnsupportedScorer(Scorer):
    """The base scorer's confidence, held below the threshold: nothing retrieved supports the answer."""

    def __init__(self, base: Scorer):
        super().__init__(base.default_threshold, base.calibrations, base.forced_threshold)

    def score(self, model_id: str, signals: Signals) -> float | None:
        score = super().score(model_id, signals)
        if score is None:
            return None
        return min(score, UNSUPPORTED_SHARE * self.threshold(model_id))
