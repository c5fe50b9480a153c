"""Which HTTP status and OpenAI error type each of Hearth's errors is answered with."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.errors import (
    ConsentUnavailable,
    GateClosed,
    HearthError,
    InvalidInput,
    ModelError,
    NotFound,
    ProviderError,
    QueueFull,
    TooLong,
)
from app.core.routing.router import RoutingError


@dataclass(frozen=True)
class Refusal:
    status: int
    kind: str  # OpenAI's error "type"
    code: str | None


_REFUSALS: list[tuple[type[HearthError], Refusal]] = [
    (TooLong, Refusal(413, "invalid_request_error", "context_length_exceeded")),
    (InvalidInput, Refusal(400, "invalid_request_error", None)),
    (RoutingError, Refusal(400, "invalid_request_error", None)),
    (NotFound, Refusal(404, "invalid_request_error", "model_not_found")),
    (ConsentUnavailable, Refusal(409, "hearth_privacy_error", "consent_required")),
    (GateClosed, Refusal(409, "hearth_privacy_error", "not_allowed")),
    (QueueFull, Refusal(429, "rate_limit_error", "queue_full")),
    (ModelError, Refusal(503, "server_error", "model_unavailable")),
    (ProviderError, Refusal(503, "server_error", "model_unavailable")),
]

UNAUTHORIZED = Refusal(401, "invalid_request_error", "invalid_api_key")
UNKNOWN_PATH = Refusal(404, "invalid_request_error", "unknown_url")
BODY_TOO_LARGE = Refusal(413, "invalid_request_error", "request_too_large")


def refusal_for(error: HearthError) -> Refusal:
    for kind, refusal in _REFUSALS:
        if isinstance(error, kind):
            return refusal
    return Refusal(500, "server_error", None)
