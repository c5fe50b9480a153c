"""Taking API keys out of text: every form a server, a library or Python may write one in.

Servers echo a key in their errors, whole or masked ("Incorrect API key
provided: sk-ab***cd"); HTTP libraries quote it in their own ("Illegal header
value b'Bearer sk-…\\n'"). Every copy is replaced by ``[key removed]``: the
key as it is, JSON-escaped, URL-encoded, as Python's repr writes it (text and
bytes), base64 (Basic authentication), a masked copy that keeps its start
and end, and any run of at least 8 of its characters (all of a shorter key).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

REMOVED = "[key removed]"
SHORTEST_PIECE = 8  # a run of this many characters of a key is taken for a copy of it
_TOKEN = re.compile(r"[A-Za-z0-9_\-+/=]+")
_MASKED = re.compile(r"([A-Za-z0-9_\-]*)((?:[*•…]|\.{2,})+)([A-Za-z0-9_\-]*)")


def _forms(key: str) -> set[str]:
    forms = {
        key,
        json.dumps(key)[1:-1],
        json.dumps(key, ensure_ascii=False)[1:-1],
        repr(key)[1:-1],
        quote(key, safe=""),
        quote_plus(key),
        base64.b64encode(key.encode()).decode(),
    }
    try:
        forms.add(repr(key.encode("latin-1"))[2:-1])
    except UnicodeEncodeError:
        forms.add(repr(key.encode("utf-8"))[2:-1])
    return {form for form in forms if form}


def _is_piece_of(token: str, key: str) -> bool:
    return len(token) >= min(len(key), SHORTEST_PIECE) and token in key


def _is_masked_copy(match: re.Match[str], key: str) -> bool:
    head, tail = match.group(1), match.group(3)
    if head and tail:
        return len(head) >= 2 and key.startswith(head) and key.endswith(tail)
    if head:
        return len(head) >= 4 and key.startswith(head)
    return len(tail) >= 3 and key.endswith(tail)


def scrub_keys(text: str, keys: Iterable[str | None]) -> str:
    """``text`` with every copy of every key in ``keys`` (also stripped of surrounding spaces) removed."""
    wanted = {value for key in keys if key for value in (key, key.strip()) if value}
    for key in sorted(wanted, key=len, reverse=True):
        for form in sorted(_forms(key), key=len, reverse=True):
            text = text.replace(form, REMOVED)
        text = _MASKED.sub(lambda m, key=key: REMOVED if _is_masked_copy(m, key) else m.group(0), text)
        text = _TOKEN.sub(lambda m, key=key: REMOVED if _is_piece_of(m.group(0), key) else m.group(0), text)
    return text
