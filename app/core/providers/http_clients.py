"""The HTTP client a conversation is sent to a remote model with, by where that model runs.

A cloud service is reached the way the environment says (``HTTPS_PROXY``...): through a proxy the
request stays TLS from end to end, and a network that lets only its proxy out keeps working. A
self-hosted server is reached directly, never through a proxy from the environment: the consent
named that server, and a proxy on the way would read a plain-http conversation whole.
"""

from __future__ import annotations

import httpx

from app.core.config.location import Location


def client_for(location: Location) -> httpx.Client:
    return httpx.Client(trust_env=location is Location.CLOUD)
