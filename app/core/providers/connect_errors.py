"""Why a connection to a service failed, in plain words with a next step.

httpx reports a missing network, a misspelt host, a refused port and a failed TLS
handshake all as ``ConnectError``; the words that follow tell them apart.
"""

from __future__ import annotations

import ssl

import httpx

from app.core.errors import ProviderUnreachable

_NAME_NOT_FOUND = (
    "name or service not known",
    "temporary failure in name resolution",
    "nodename nor servname",
    "getaddrinfo failed",
    "no address associated",
    "name resolution",
    "errno -2",
    "errno -3",
    "errno 11001",
)
_TLS = ("ssl", "tls", "certificate", "handshake")


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def connect_failure(exc: httpx.ConnectError, base_url: str, provider: str) -> ProviderUnreachable:
    text = str(exc)
    lowered = text.lower()
    host = httpx.URL(base_url).host or base_url
    if any(isinstance(cause, ssl.SSLError) for cause in _causes(exc)) or any(w in lowered for w in _TLS):
        return ProviderUnreachable(
            f"the secure (TLS) connection to {host} failed ({text}). Check that the address starts with the "
            "scheme the server speaks (https:// or http://); if it is right, the computer's clock may be wrong "
            "or a proxy or antivirus may intercept secure connections.",
            provider=provider,
        )
    if any(marker in lowered for marker in _NAME_NOT_FOUND):
        return ProviderUnreachable(
            f"cannot find {host}: this computer seems to be offline, or the address is misspelt. "
            "Check the network connection and the address, then try again.",
            provider=provider,
        )
    return ProviderUnreachable(
        f"could not connect to {base_url}: nothing answers there ({text}). Is the server running, and are "
        "the address and port right?",
        provider=provider,
    )
