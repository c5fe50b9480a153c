"""A long message is drawn in pieces, so an answer that grows re-lays only its end, and a huge one only its start.

Qt lays a text document out in one go, and more slowly than its length grows
once a paragraph or a line is long: a 4.6 MB code block took 19.6 s, one
unbroken 1 MB word 28 s. So a message's Markdown is cut into pieces of a few
thousand characters, each rendered and laid out on its own and kept while it
does not change; as an answer streams in, only its last piece changes. A piece
ends where the cut does not change what the Markdown means once it holds
PIECE_TARGET characters: after a blank line, before a line that is not
indented, outside code. A code block or a table longer than PIECE_MAX goes on
in the next piece (its fence or header written again); a longer line is cut.

Only the first SHOWN_MAX characters of a message are drawn; the window offers
the whole text in a plain-text viewer and as a file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

PIECE_TARGET = 2_000
PIECE_MAX = 4_000
SHOWN_MAX = 24_000

_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})([^\n]*)\n?")
_TABLE_DELIMITER = re.compile(r" {0,3}\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*\n")


@dataclass(frozen=True)
class Piece:
    markdown: str
    continues_code: bool = False  # its first code block is the rest of the last one before it


def shown_part(text: str) -> str:
    """The start of ``text`` that is drawn: all of it up to SHOWN_MAX, cut at a line's end where one is near."""
    if len(text) <= SHOWN_MAX:
        return text
    end = text.rfind("\n", SHOWN_MAX - PIECE_TARGET, SHOWN_MAX)
    return text[: end + 1 if end >= 0 else SHOWN_MAX]


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text`` with their line breaks, a line longer than PIECE_MAX cut into parts."""
    start = 0
    while start < len(text):
        end = text.find("\n", start) + 1 or len(text)
        for part in range(start, end, PIECE_MAX):
            yield text[part : min(part + PIECE_MAX, end)]
        start = end


def pieces(markdown: str) -> list[Piece]:
    """``markdown`` cut into pieces; each depends only on the text before its end, so adding text keeps them."""
    done: list[Piece] = []
    current: list[str] = []
    size = 0
    continues = False
    fence: tuple[str, str] | None = None  # while in a code block: its fence, and the line that opened it
    table_head = ""  # while in a table: its header and delimiter rows
    previous = ""  # the line before, complete
    line_start = True  # the next part starts a line (it does not continue a cut one)

    for part in _lines(markdown):
        cut = size >= PIECE_MAX or (
            fence is None and size >= PIECE_TARGET and not previous.strip() and line_start and part[:1] not in " \t\r\n"
        )
        if cut and current:
            done.append(Piece("".join(current), continues))
            carried = fence[1] if fence else table_head
            current, size, continues = ([carried] if carried else []), len(carried), fence is not None
        current.append(part)
        size += len(part)
        if line_start:
            fence, table_head = _after_line(part, previous, fence, table_head)
        line_start = part.endswith("\n")
        previous = part if line_start else ""
    if current:
        done.append(Piece("".join(current), continues))
    return done


def _after_line(
    line: str, previous: str, fence: tuple[str, str] | None, table_head: str
) -> tuple[tuple[str, str] | None, str]:
    """The code block and the table a line leaves the text in."""
    marker = _FENCE.fullmatch(line)
    if fence is not None:
        closes = marker is not None and marker[1][0] == fence[0][0] and len(marker[1]) >= len(fence[0])
        return (None if closes and not marker[2].strip() else fence), ""
    if marker is not None and not (marker[1][0] == "`" and "`" in marker[2]):
        return (marker[1], line if line.endswith("\n") else line + "\n"), ""
    if not line.strip() or "|" not in line:
        return None, ""
    if not table_head and "|" in previous and _TABLE_DELIMITER.fullmatch(line):
        return None, previous + line
    return None, table_head
