"""The user's verdicts on answers, kept as labels for the confidence of the model that gave each.

✓ Good says the answer on show is right; ✗ Wrong and "Ask a stronger model" say it is not; a
choice in Compare says the chosen answer is right and the other is not (the weakest of these:
both may be right, and the user only preferred one). A label keeps the model, the answer's
signals (numbers: no text of the answer or the question) and the verdict, in the local
database; nothing of it is ever sent anywhere. A later verdict on the same answer replaces the
earlier one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from app.core.confidence.signals import Signals
from app.core.storage import verdicts
from app.core.storage.rows import AttemptRow
from app.core.storage.store import Store


class Verdict(StrEnum):
    GOOD = "good"
    WRONG = "wrong"
    STRONGER = "stronger"  # the user asked a stronger model: this answer was not good enough
    PREFERRED = "preferred"  # chosen in Compare
    NOT_PREFERRED = "not-preferred"  # the other answer in Compare


RIGHT = frozenset({Verdict.GOOD, Verdict.PREFERRED})


@dataclass(frozen=True)
class Label:
    model: str
    signals: Signals
    correct: bool
    verdict: Verdict


def shown_attempt(store: Store, message_id: int) -> AttemptRow | None:
    """The attempt whose answer the message shows (the last one with that text)."""
    content = store.message(message_id).content
    showing = [a for a in store.attempts(message_id) if a.text == content and not a.imported]
    return showing[-1] if showing else None


def label_attempt(store: Store, attempt: AttemptRow, verdict: Verdict) -> bool:
    """Keep the verdict on this attempt; False when it has nothing to learn from (no token probabilities)."""
    if attempt.signals.get("mean_logprob") is None:
        return False
    row = {
        "attempt_id": attempt.id,
        "message_id": attempt.message_id,
        "model": attempt.model,
        "verdict": verdict.value,
        "correct": int(verdict in RIGHT),
        "signals": json.dumps(attempt.signals),
        "created_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
    }
    verdicts.keep(store, row)
    return True


def label_shown(store: Store, message_id: int, verdict: Verdict) -> str | None:
    """Keep the verdict on the answer this message shows; the model labelled, or None."""
    attempt = shown_attempt(store, message_id)
    return attempt.model if attempt is not None and label_attempt(store, attempt, verdict) else None


def labels(store: Store, model: str) -> list[Label]:
    """This model's labels, oldest first; a row whose signals this version cannot read is passed over."""
    found = []
    for row in verdicts.rows(store, model):
        try:
            signals = Signals.from_dict(json.loads(row["signals"]))
            verdict = Verdict(row["verdict"])
        except (TypeError, ValueError):
            continue
        found.append(Label(model, signals, bool(row["correct"]), verdict))
    return found


def count(store: Store, model: str) -> int:
    return verdicts.count(store, model)


def forget(store: Store, model: str) -> None:
    verdicts.forget(store, model)
