"""The rows of the database as Hearth reads them, and the rules every stored value obeys.

The same field models serve the reader (app/core/storage/store.py) and the importer
(app/core/storage/archive.py): a value the reader would refuse can never be imported,
and a row that breaks a rule anyway (an older bug, a hand-edited database) is
named with its field instead of crashing whoever reads it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from app.core.answers import Attempt, escalated
from app.core.config.schema import Location, Privacy
from app.core.errors import DamagedRecord
from app.core.nested_text import read_json

MessageStatus = Literal["complete", "incomplete", "failed"]
Arm = Literal["A", "B"]
Count = Annotated[int, Field(ge=0)]
Amount = Annotated[float, Field(ge=0, allow_inf_nan=False)]  # milliseconds, US dollars
Probability = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Scalar = float | int | str | bool | None


def _timestamp(value: str) -> str:
    datetime.fromisoformat(value)  # a ValueError says "Value error, Invalid isoformat string"
    return value


def _json_text(shape: Any, what: str) -> AfterValidator:
    """A JSON document stored as text (route, attachments, redactions are kept so) that must be a ``shape``."""
    adapter = TypeAdapter(shape)

    def check(value: str) -> str:
        try:
            adapter.validate_json(value)
        except ValidationError:
            raise ValueError(f"should be JSON text of {what}") from None
        return value

    return AfterValidator(check)


def _signals_from_text(value: object) -> object:
    """Signals are stored as JSON text (none yet: empty); an export may carry them as text or as an object."""
    if value is None or value == "":
        return {}
    if not isinstance(value, str):
        return value
    try:
        return read_json(value)
    except ValueError:
        raise ValueError("should be JSON text of an object") from None


Timestamp = Annotated[str, AfterValidator(_timestamp)]
RouteText = Annotated[str, _json_text(dict[str, Any], "an object")]
PathsText = Annotated[str, _json_text(list[str], "a list of file paths")]
CountsText = Annotated[str, _json_text(dict[str, int], "counts by kind")]
SourcesText = Annotated[str, _json_text(list[dict[str, Any]], "a list of document sources")]
NamesText = Annotated[str, _json_text(list[str], "a list of names")]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
StepText = Annotated[str, _json_text(dict[str, Scalar | list[int]], "a plan step")]
Signals = Annotated[dict[str, Scalar], BeforeValidator(_signals_from_text)]


class ConversationFields(BaseModel):
    title: str
    created_at: Timestamp
    updated_at: Timestamp
    privacy: Privacy | None = None
    arm: Arm = "A"
    pinned: bool = False
    leaf_id: int | None = None  # the last message of the branch on show
    api_client: str | None = None  # the program that asked, for a conversation kept from the local API


class ConversationRow(ConversationFields):
    id: int
    # Set when the stored row broke a rule: it is listed with safe values (local-only, arm A) and the reason.
    problem: str | None = None


class MessageFields(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: str
    status: MessageStatus
    created_at: Timestamp
    warning: str | None = None
    parent_id: int | None = None  # the first version of this message (edits and regenerations are versions)
    after_id: int | None = None  # the message this one follows in its thread
    route: RouteText | None = None  # the router's decision and its reasons
    attachments: PathsText | None = None  # the files attached to a user message
    sources: SourcesText | None = None  # the document chunks an answer drew on (app/core/documents/sources.py)
    collections: NamesText | None = None  # the document collections a question was asked over


class MessageRow(MessageFields):
    id: int
    conversation_id: int


class AttemptFields(BaseModel):
    position: Count
    tier: str
    model: str
    location: Location
    text: str
    confidence: Probability | None
    signals: Signals
    latency_ms: Amount | None
    first_token_ms: Amount | None
    tokens_in: Count | None
    tokens_out: Count | None
    finish_reason: str | None
    error: str | None
    reason: str | None
    created_at: Timestamp
    trigger: Literal["auto", "user"] = "auto"
    cost: Amount = 0.0  # USD, from the model's prices in models.toml
    provider: str | None = None
    destination: str | None = None
    policy: Privacy | None = None
    payload_sha256: Sha256 | None = None
    redacted: CountsText | None = None  # how many values of each kind were replaced
    step: StepText | None = None  # the step of a plan this attempt was (app/core/conversation/teamwork/steps.py)


class AttemptRow(AttemptFields):
    id: int
    message_id: int
    # Came in with an imported conversation: history from elsewhere. It never counts towards a budget
    # and is no audit row: nothing of it left this computer from here.
    imported: bool = False

    @property
    def spent(self) -> float:
        """What this attempt cost this installation (an imported one: nothing)."""
        return 0.0 if self.imported else self.cost


class RoutingEventRow(BaseModel):
    id: int
    message_id: int
    kind: Literal["user-escalation"]
    from_tier: str | None
    to_tier: str | None
    created_at: str


class SummaryRow(BaseModel):
    conversation_id: int
    content: str
    covers_through: int  # the last message id the summary includes
    edited: bool = False  # the user wrote or changed it
    updated_at: str


class SearchHit(BaseModel):
    message_id: int
    conversation_id: int
    conversation_title: str
    conversation_api_client: str | None = None  # the program that asked, when it came through the local API
    role: str
    snippet: str  # the matching words between [ and ]
    created_at: str


def shown_attempt(attempts: list[AttemptRow], content: str) -> AttemptRow | None:
    """The attempt whose answer the message shows (the cascade may show an earlier, surer one)."""
    answered = [attempt for attempt in attempts if attempt.error is None]
    return next((a for a in reversed(answered) if a.text == content), answered[-1] if answered else None)


def escalated_on_its_own(attempts: list[AttemptRow], shown: AttemptRow) -> bool:
    """Whether the cascade escalated to the answer on show by its own decision (what the badge, ``hearth
    stats`` and the dashboard call escalated). An answer the user asked a stronger model for is a
    routing miss, not an escalation."""
    automatic = [attempt for attempt in attempts if attempt.trigger == "auto"]
    return shown.trigger == "auto" and escalated(automatic, shown)


def _shown(value: object) -> str:
    """A stored value as a message may quote it: short, and with control characters escaped."""
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def field_problems(errors: list[ErrorDetails], skip: int = 0) -> str:
    """What broke which rule, in words: "its field 'arm' is 'C' (Input should be 'A' or 'B')".

    ``skip`` drops that many leading parts of each location (the path to the row in a document).
    """
    parts = []
    for detail in errors[:3]:
        names = [str(part) for part in detail["loc"][skip:] if isinstance(part, str)]
        name = ".".join(names) or "value"
        if detail["type"] == "missing":
            parts.append(f"its field '{name}' is missing")
        elif detail["type"] == "extra_forbidden":
            parts.append(f"it has a field '{name}' Hearth does not know")
        else:
            message = detail["msg"].removeprefix("Value error, ")
            parts.append(f"its field '{name}' is {_shown(detail['input'])} ({message})")
    more = len(errors) - 3
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def damaged(what: str, error: ValidationError) -> DamagedRecord:
    """The error for a stored row that breaks a rule: ``what`` ("Conversation 3 “Trip”: message 12"), and why."""
    return DamagedRecord(
        f"{what} cannot be read: {field_problems(error.errors())}. It was stored by an earlier version of Hearth or "
        "changed by hand; your other conversations are not affected. You can delete this conversation, "
        "or restore a backup (hearth backup --list)."
    )


def lenient_conversation(raw: dict[str, Any]) -> ConversationRow:
    """A conversation row as it can be listed even when it breaks a rule: each bad field gets its safest
    value (privacy local-only, arm A) and ``problem`` says what was wrong."""
    try:
        return ConversationRow.model_validate(raw)
    except ValidationError as exc:
        problem = field_problems(exc.errors())
        bad = {str(detail["loc"][0]) for detail in exc.errors() if detail["loc"]}
    safe: dict[str, Any] = {"privacy": Privacy.LOCAL_ONLY, "arm": "A", "pinned": False, "leaf_id": None}
    kept = {key: value for key, value in raw.items() if key not in bad}
    number = raw.get("id") if isinstance(raw.get("id"), int) else 0
    fallback = {"title": f"Conversation {number}", "created_at": "1970-01-01T00:00:00", "id": number}
    fallback["updated_at"] = fallback["created_at"]
    row = {**fallback, **{key: safe[key] for key in bad if key in safe}, **kept}
    return ConversationRow.model_validate({**row, "problem": problem})


def attempt_fields(message_id: int, position: int, attempt: Attempt, trigger: str, now: str) -> dict[str, object]:
    """The row an attempt is stored as (AttemptRow reads it back)."""
    return {
        "message_id": message_id,
        "position": position,
        "tier": attempt.tier,
        "model": attempt.model_id,
        "location": attempt.location,
        "text": attempt.text,
        "confidence": attempt.confidence,
        "signals": json.dumps(attempt.signals),
        "latency_ms": attempt.latency_ms,
        "first_token_ms": attempt.first_token_ms,
        "tokens_in": attempt.tokens_in,
        "tokens_out": attempt.tokens_out,
        "finish_reason": attempt.finish_reason,
        "error": attempt.error,
        "reason": attempt.reason,
        "trigger": trigger,
        "cost": attempt.cost,
        "provider": attempt.provider or None,
        "destination": attempt.destination or None,
        "policy": attempt.policy or None,
        "payload_sha256": attempt.payload_sha256,
        "redacted": json.dumps(attempt.redacted) if attempt.redacted else None,
        "step": attempt.step,
        "created_at": now,
    }
