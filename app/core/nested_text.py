"""Reading JSON and TOML that someone else wrote: a server's answer, a downloaded catalog, an import.

``json.loads`` and ``tomllib.loads`` read nested arrays and tables by recursion, so a
text that opens a few thousand of them ("[[[[…") raises RecursionError, which is no
ValueError: it escaped every ``except`` written for malformed text, past the
cascade's fallback to the answer already given, to "Unexpected error". Here it is
one more way for the text to be unreadable: ``TooDeep``, a ValueError, caught with
the parser's own errors.
"""

from __future__ import annotations

import json
import tomllib
from typing import Any


class TooDeep(ValueError):
    """The text nests arrays or objects (tables) more deeply than the parser can follow."""

    def __init__(self, kind: str):
        super().__init__(f"the {kind} nests arrays or objects too deeply to be read")


def read_json(text: str | bytes) -> Any:
    """``json.loads``; every unreadable text (malformed, not UTF-8, nested too deeply) raises a ValueError."""
    try:
        return json.loads(text)
    except RecursionError:
        raise TooDeep("JSON") from None


def read_toml(text: str) -> dict[str, Any]:
    """``tomllib.loads``; nesting too deep to read raises TooDeep, other faults ``tomllib.TOMLDecodeError``."""
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise TooDeep("TOML") from None
