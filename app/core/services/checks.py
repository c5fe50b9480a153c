"""Verify a service and fetch its model list: real requests, each through the outgoing gate.

The user's click (or command) is the consent for these requests, so nobody is asked again;
the gate still checks the destination's location against the privacy policy and writes the
audit row. Verify asks for the model list (address, TLS and key), then one answer token from a
model (credit): each failure is one of the plain-words provider errors of app/core/errors.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from app.core.config.keys import missing_key_message
from app.core.config.schema import Privacy
from app.core.errors import GateClosed, HearthError
from app.core.privacy.gate import ConsentRequest, Decision, OutboundGate, Passage
from app.core.privacy.policy import PRIVACY_LABELS, Allowance, allowance
from app.core.providers.base import Message
from app.core.providers.registry import REMOTE_PROVIDERS
from app.core.services.connection import Connection
from app.core.services.model_list import ListedModel, ModelListing
from app.core.storage.store import Store

PROBE = [Message("user", "Reply with the word OK.")]


@dataclass(frozen=True)
class Verified:
    models: list[ListedModel]
    model: str  # the model that answered
    reply: str  # what it said (one token)


def _clicked(_: ConsentRequest) -> Decision:
    """The user asked for this very request by clicking Verify (or running the command)."""
    return Decision.ONCE


def _passage(store: Store, privacy: Privacy) -> Passage:
    return OutboundGate(_clicked, redact=False).passage(store, privacy, purpose="verify")


def _key_kwargs(connection: Connection, keys: Sequence[str]) -> dict[str, object]:
    if connection.key is None:
        return {"api_key": None}
    if not keys:
        return {"api_key": None, "missing_key": missing_key_message(connection.key)}
    return {"api_key": keys[0], "spare_keys": list(keys[1:])}


def _through_gate(passage: Passage, connection: Connection, send: Callable[[], None]) -> None:
    """Run ``send`` and turn a policy refusal into words that say what to change."""
    try:
        send()
    except GateClosed:
        if allowance(passage.privacy, connection.location) is Allowance.FORBIDDEN:
            raise GateClosed(
                f"Nothing was sent to {connection.base_url}: your privacy setting "
                f"'{PRIVACY_LABELS[passage.privacy]}' does not allow {connection.location.value} destinations. "
                "Choose a wider one in Tools → Settings → Privacy (or pass --privacy) to use this provider."
            ) from None
        raise


def fetch_models(
    connection: Connection, keys: Sequence[str], store: Store, privacy: Privacy, client: httpx.Client
) -> list[ListedModel]:
    """The service's chat models, asked through the gate."""
    return _fetch(connection, keys, _passage(store, privacy), client)


def _fetch(connection: Connection, keys: Sequence[str], passage: Passage, client: httpx.Client) -> list[ListedModel]:
    listing = ModelListing(connection, client, **_key_kwargs(connection, keys))  # type: ignore[arg-type]

    def send() -> None:
        for _ in passage.through(listing, "model list").stream([], max_tokens=1):
            pass

    _through_gate(passage, connection, send)
    return listing.listed


def verify(
    connection: Connection,
    keys: Sequence[str],
    store: Store,
    privacy: Privacy,
    client: httpx.Client,
    model: str | None = None,
) -> Verified:
    """The model list, then one token from ``model`` (default: the service's suggestion, else its first)."""
    passage = _passage(store, privacy)
    models = _fetch(connection, keys, passage, client)
    ids = [m.id for m in models]
    chosen = model or (connection.preset.suggested if connection.preset.suggested in ids else None)
    chosen = chosen or (ids[0] if ids else None)
    if chosen is None:
        raise HearthError(f"{connection.base_url} answered, but lists no model that can chat. Load a model there.")
    provider_class = REMOTE_PROVIDERS[connection.preset.wire]
    chat = provider_class(
        connection.model_id(chosen), connection.config(chosen), client, **_key_kwargs(connection, keys)
    )  # type: ignore[arg-type]
    reply: list[str] = []

    def send() -> None:
        for chunk in passage.through(chat, "verify").stream(PROBE, max_tokens=1):
            reply.append(chunk.text)

    _through_gate(passage, connection, send)
    return Verified(models, chosen, "".join(reply))
