"""Where a link an answer wrote really leads, said before anything opens it.

An address can dress one site as another: ``https://bank.example@evil.example/``
leads to evil.example (what stands before ``@`` is a user name), ``%65vil.example``
is evil.example once the browser decodes it, and ``bаnk.example`` with a Cyrillic
``а`` is another site than the one it looks like. So the host is read the way a
browser reads it, shown in the ASCII form the browser sends (``xn--…`` for
look-alike letters), and anything a browser might read otherwise (a backslash,
a space, a control character) is no address Hearth opens. What opens is the
address rebuilt from the parts read here, so it goes where the user was told.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

WEB_SCHEMES = ("http", "https")
_ASCII_HOST = re.compile(r"^(?:\[[0-9a-f:.]+\]|[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?)$")


@dataclass(frozen=True)
class WebLink:
    written: str  # the address as the answer wrote it
    address: str  # as it is opened: the host in ASCII, no user part
    host: str  # the host the browser reaches, in the ASCII form it sends
    written_host: str  # the host as the address writes it
    user_part: str  # what stands before "@", which is not where the link leads ("" when none)

    @property
    def disguised(self) -> bool:
        """The link looks like it leads elsewhere than ``host``: a user part, or a host written otherwise."""
        return bool(self.user_part) or self.written_host != self.host


def web_link(address: str) -> WebLink | None:
    """``address`` as a web link (http, https) with the host it leads to; None: it is none Hearth opens."""
    address = address.strip()
    if any(ch == "\\" or ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf") for ch in address):
        return None
    try:
        parts = urlsplit(address)
        written = parts.hostname or ""
        user_part = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
        port = parts.port  # raises ValueError for a port that is no number
    except ValueError:
        return None
    if parts.scheme.lower() not in WEB_SCHEMES or not written:
        return None
    host = _ascii_host(unquote(written))
    if host is None:
        return None
    netloc = host if port is None else f"{host}:{port}"
    opened = urlunsplit((parts.scheme.lower(), netloc, parts.path, parts.query, parts.fragment))
    return WebLink(address, opened, host, f"[{written}]" if ":" in written else written, unquote(user_part))


def _ascii_host(host: str) -> str | None:
    if ":" in host:  # an IPv6 address, which urlsplit gives without its brackets
        ascii_host = f"[{host.lower()}]"
    else:
        try:
            ascii_host = host.encode("idna").decode("ascii").lower()
        except UnicodeError:
            return None
    return ascii_host if _ASCII_HOST.fullmatch(ascii_host) else None
