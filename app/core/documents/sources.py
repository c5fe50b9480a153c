"""What an answer drew on: numbered sources, each a file and a place in it (page, heading or line).

A source is built from the index's own rows (the path Hearth indexed, the page it
counted), never from the answer's text: a model that writes "[7](file:///etc/passwd)"
cites nothing, and the window only opens what is stored here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from app.core.storage.document_index import ChunkRow

# Said under an answer that was asked over documents and given none: nothing in them matched.
NOTHING_CITED = "Nothing in the chosen documents matched this question, so the answer is not drawn from them."


class Source(BaseModel):
    model_config = ConfigDict(frozen=True)  # hashable: the window caches what it drew by message

    number: int
    collection: str
    path: str
    heading: str | None = None
    page: int | None = None
    line: int | None = None
    chunk_ids: tuple[int, ...]
    whole: bool = False  # the whole file went in

    @classmethod
    def of(cls, number: int, chunks: list[ChunkRow], at: ChunkRow | None = None, whole: bool = False) -> Source:
        """Source ``number``: these chunks of one file (all of them when ``whole``), cited at the chunk ``at``
        (the one that matched; the first by default)."""
        place = at or chunks[0]
        return cls(
            number=number,
            collection=place.collection,
            path=place.path,
            heading=place.heading,
            page=place.page,
            line=place.line,
            chunk_ids=tuple(chunk.id for chunk in chunks),
            whole=whole,
        )

    @property
    def place(self) -> str:
        """Where in the file, in words: "page 3", "Install › Linux", "line 40"."""
        if self.page is not None:
            return f"page {self.page}"
        if self.heading:
            return self.heading
        if self.line is not None and self.line > 1:
            return f"line {self.line}"
        return ""

    @property
    def label(self) -> str:
        name = Path(self.path).name
        return f"{name}, {self.place}" if self.place else name

    def url(self) -> str:
        """The file's address, at the page for a PDF (viewers honour ``#page=N``)."""
        address = Path(self.path).as_uri()
        return f"{address}#page={self.page}" if self.page is not None else address


def sources_from(stored: list[dict[str, Any]] | None) -> list[Source]:
    """The sources recorded with an answer; an entry that is not a source is left out."""
    found = []
    for item in stored or []:
        try:
            found.append(Source.model_validate(item))
        except ValueError:
            continue
    return found
