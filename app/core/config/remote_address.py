"""Whether the address of a remote model is safe to send to, read the way the HTTP client reads it.

An address with a user name (``https://api.openai.com@127.0.0.1:9/v1``) goes to
the host after the ``@``, not to the one it seems to name; a key sent over
plain http can be read by anyone on the way, so it may only go to this
computer itself.
"""

from __future__ import annotations

import ipaddress

import httpx


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this computer (localhost, 127.0.0.0/8, ::1)."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def address_problem(base_url: str, key: str | None) -> str | None:
    """What is wrong with sending to ``base_url`` (with the API key named ``key``), or None."""
    try:
        url = httpx.URL(base_url)
    except httpx.InvalidURL as exc:
        return f"is not a valid address ({exc})"
    if url.userinfo or b"@" in url.netloc:
        return (
            f"contains a user name or password before '@', so requests would go to {url.host!r}, not to what it "
            'seems to name. Give the service\'s own address, and its key with `key = "NAME"`'
        )
    if not url.host:
        return "has no host name"
    if key is not None and url.scheme == "http" and not is_loopback(url.host):
        return (
            f"is plain http to {url.host}, so the API key '{key}' would cross the network unencrypted. "
            "Use https:// (or remove `key` if the server needs none)"
        )
    return None
