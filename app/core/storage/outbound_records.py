"""What the outgoing gate keeps in the database.

- The audit (``hearth audit``): one row per request the gate let leave, written before
  the first byte goes, with the destination's real location, the policy, why it was
  allowed, the payload's SHA-256, and afterwards what came of it.
- Approvals: destinations a conversation sends to without asking ("Always for this
  conversation"), each one a model at an address the user saw named.
- Rests: models that failed repeatedly, and until when they are left alone (wall-clock
  time, so a rest holds across messages, windows and command-line runs).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from pydantic import BaseModel

from app.core.storage.database import translating_errors
from app.core.storage.store import Store


class OutboundRow(BaseModel):
    id: int
    created_at: str
    conversation_id: int | None
    message_id: int | None
    purpose: str  # the tier asked, or shadow, summary, ensemble, evaluation
    model: str
    location: str
    address: str | None
    destination: str | None  # the provider's label: its model at its address
    policy: str
    basis: str  # why the gate let it go: the policy, or the user's approval
    payload_sha256: str
    redacted: str | None  # JSON: how many values of each kind were replaced
    estimated_cost: float | None
    cost: float | None
    outcome: str | None  # "answered", "stopped", the error; None while it is on its way
    documents: str | None = None  # JSON: the collections and chunk ids the request carried
    via: str | None = None  # "API (client)" when a program asked through Hearth's local API


@translating_errors
class OutboundRecords:
    def __init__(self, store: Store):
        self.db = store.db
        self.path = store.path

    # The audit
    def sending(
        self,
        *,
        conversation_id: int | None,
        message_id: int | None,
        purpose: str,
        model: str,
        location: str,
        address: str,
        destination: str,
        policy: str,
        basis: str,
        payload_sha256: str,
        redacted: dict[str, int],
        estimated_cost: float,
        documents: dict[str, object] | None = None,
        via: str | None = None,
    ) -> int:
        """Record a request about to leave; returns its row id for ``sent``."""
        with self.db.atomic():
            table = self.db["outbound"].insert(
                {
                    "created_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
                    "conversation_id": conversation_id,
                    "message_id": message_id,
                    "purpose": purpose,
                    "model": model,
                    "location": location,
                    "address": address or None,
                    "destination": destination,
                    "policy": policy,
                    "basis": basis,
                    "payload_sha256": payload_sha256,
                    "redacted": json.dumps(redacted) if redacted else None,
                    "estimated_cost": estimated_cost,
                    "documents": json.dumps(documents) if documents else None,
                    "via": via,
                }
            )
        assert table.last_pk is not None
        return int(table.last_pk)

    def sent(self, row_id: int, outcome: str, cost: float) -> None:
        with self.db.atomic():
            self.db["outbound"].update(row_id, {"outcome": outcome, "cost": cost})

    def audit(self) -> list[OutboundRow]:
        """Everything that was sent off this computer, newest first."""
        return [OutboundRow.model_validate(row) for row in self.db["outbound"].rows_where(order_by="id desc")]

    # Destinations approved for good, per conversation
    def approved(self, conversation_id: int) -> set[tuple[str, str]]:
        rows = self.db["approvals"].rows_where("conversation_id = ?", [conversation_id])
        return {(row["model"], row["address"]) for row in rows}

    def approve(self, conversation_id: int, model: str, address: str, location: str) -> None:
        with self.db.atomic():
            self.db["approvals"].upsert(
                {
                    "conversation_id": conversation_id,
                    "model": model,
                    "address": address,
                    "location": location,
                    "created_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
                },
                pk=("conversation_id", "model", "address"),
            )

    def forget_approvals(self, conversation_id: int) -> None:
        with self.db.atomic():
            self.db.execute("DELETE FROM approvals WHERE conversation_id = ?", [conversation_id])

    # Models resting after repeated failures
    def rests(self, now: float) -> dict[str, float]:
        """Models resting at ``now`` (seconds since the epoch), and until when."""
        return {row["model"]: float(row["until"]) for row in self.db["rests"].rows_where("until > ?", [now])}

    def rest(self, rests: dict[str, float]) -> None:
        """Record rests (model -> until); a longer rest already recorded is kept."""
        with self.db.atomic():
            for model, until in rests.items():
                self.db.execute(
                    "INSERT INTO rests (model, until) VALUES (?, ?) "
                    "ON CONFLICT(model) DO UPDATE SET until = MAX(until, excluded.until)",
                    [model, until],
                )

    def wake(self, models: list[str]) -> None:
        """End the rests of ``models``: they are asked again on the next message."""
        with self.db.atomic():
            for model in models:
                self.db.execute("DELETE FROM rests WHERE model = ?", [model])
