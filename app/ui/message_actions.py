"""What a click, a menu entry or a key can do to a message, and the links that carry it there.

The window's own links (under a message, on a code block) are written in a
scheme whose name holds a token drawn at random when Hearth starts. An answer
cannot know it, so no link an answer writes, ``[Show sources](action:stronger)``
or any other, can rate, re-ask or copy anything: links in answers are numbered
aside by the Markdown renderer and are only ever opened as web addresses, after
the user saw where they go.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import StrEnum


class MessageAction(StrEnum):
    COPY = "copy"
    EDIT = "edit"
    RATE_UP = "rate-up"
    RATE_DOWN = "rate-down"
    REGENERATE = "regenerate"
    STRONGER = "stronger"
    COMPARE = "compare"  # another tier answers beside this one; the user keeps the better
    WAKE = "wake"  # the answer's resting models are asked again now
    STOP = "stop"
    PREVIOUS_VERSION = "previous-version"
    NEXT_VERSION = "next-version"
    COPY_CODE = "copy-code"  # number: which code block
    OPEN_LINK = "open-link"  # address: where a link in the answer points (the answer's word, untrusted)
    SHOW_ALL = "show-all"  # a long message, whole, in a plain-text viewer
    SAVE = "save"  # a long message, whole, into a file
    OPEN_SOURCE = "open-source"  # number: which of the answer's stored document sources


@dataclass(frozen=True)
class Request:
    action: MessageAction
    number: int = 0
    address: str = ""


SCHEME = f"hearth-{secrets.token_hex(8)}"


def href(action: MessageAction, number: int = 0) -> str:
    """The link that asks for ``action`` (on code block or answer link ``number``)."""
    return f"{SCHEME}:{action.value}/{number}"


def parse(link: str) -> tuple[MessageAction, int] | None:
    """The action a link of the window's own asks for; None for every other link."""
    scheme, _, rest = link.partition(":")
    name, _, number = rest.partition("/")
    if scheme != SCHEME or not number.isdigit():
        return None
    try:
        return MessageAction(name), int(number)
    except ValueError:
        return None
