"""Text folded for matching, with the way back to the original positions.

Pasted text hides what it is: a card number copied from a PDF has no-break or
thin spaces, a phone number typed on a Japanese keyboard has full-width digits,
a web page puts zero-width spaces inside an address. Folding makes them plain:
NFKC (full-width and compatibility forms, every kind of space), format
characters dropped (zero-width, bidi controls, soft hyphens), every dash one
``-``, every dot one ``.``, and every decimal digit an ASCII one.

Whatever is found in the folded text is a span of the original too
(``Folded.original_span``), so the original stays exactly as the user wrote it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\ufe58\ufe63\uff0d"
_DOTS = "\u00b7\u2024\u2027\u2219\u22c5\u30fb\u3002\uff0e\uff61\uff65"
_PLAIN = str.maketrans({**dict.fromkeys(_DASHES, "-"), **dict.fromkeys(_DOTS, ".")})
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


@dataclass(frozen=True)
class Folded:
    """``text`` folded; ``starts[i]``/``ends[i]``: the original characters folded character i came from."""

    text: str
    starts: list[int] | None = None  # None: the text was plain ASCII and is its own fold
    ends: list[int] | None = None

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of the folded span ``[start, end)`` (non-empty)."""
        if self.starts is None or self.ends is None:
            return start, end
        return self.starts[start], self.ends[end - 1]


def fold(text: str) -> Folded:
    if text.isascii():
        return Folded(text)
    parts: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    done = 0
    for match in _NON_ASCII.finditer(text):
        begin, end = match.span()
        if begin > done and unicodedata.combining(text[begin]):
            begin -= 1  # an ASCII letter and the accents that follow it fold together
        parts.append(text[done:begin])
        starts.extend(range(done, begin))
        ends.extend(range(done + 1, begin + 1))
        _fold_run(text, begin, end, parts, starts, ends)
        done = end
    parts.append(text[done:])
    starts.extend(range(done, len(text)))
    ends.extend(range(done + 1, len(text) + 1))
    return Folded("".join(parts), starts, ends)


def _fold_run(text: str, begin: int, end: int, parts: list[str], starts: list[int], ends: list[int]) -> None:
    """Fold ``text[begin:end]`` one character with its combining marks at a time."""
    index = begin
    while index < end:
        stop = index + 1
        while stop < end and unicodedata.combining(text[stop]):
            stop += 1
        for char in unicodedata.normalize("NFKC", text[index:stop]):
            if unicodedata.category(char) == "Cf":
                continue  # zero-width spaces and joiners, bidi controls, soft hyphens
            digit = unicodedata.decimal(char, None)
            parts.append(str(digit) if digit is not None else char.translate(_PLAIN))
            starts.append(index)
            ends.append(stop)
        index = stop
