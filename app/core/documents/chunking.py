"""Sections into chunks small enough to retrieve one by one, each keeping its heading, page and line.

A chunk ends at a blank line where it can, else at a line end, else at a space,
so a sentence or a code line is rarely cut. Chunks never span two sections, so
a chunk's heading and page are always its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from app.core.documents.extract import Section
from app.core.storage.document_index import TextChunk

CHUNK_CHARS = 1200  # about 300 tokens: several fit in a small model's context with room to answer


def chunks_of(sections: Iterable[Section], size: int = CHUNK_CHARS) -> Iterator[TextChunk]:
    for section in sections:
        for offset, piece in _pieces(section.text, size):
            line = None if section.line is None else section.line + section.text.count("\n", 0, offset)
            yield TextChunk(piece, section.heading, section.page, line)


def _pieces(text: str, size: int) -> Iterator[tuple[int, str]]:
    start = 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            window = text[start:end]
            for separator in ("\n\n", "\n", " "):  # the strongest break in the last two thirds
                cut = window.rfind(separator)
                if cut > size // 3:
                    end = start + cut
                    break
        piece = text[start:end].strip()
        if piece:
            yield start + (len(text[start:end]) - len(text[start:end].lstrip())), piece
        start = end
