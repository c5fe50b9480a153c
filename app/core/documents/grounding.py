"""Putting what was retrieved in front of a model: as much as fits, a whole file where it fits.

The documents get at most ``DOCUMENT_SHARE`` of what the model's context window has
left after the answer, the system prompt and the question, so the conversation keeps
room too. A file whose whole text fits goes in whole (best for "summarise this file");
otherwise the best chunks go in, by rank, until the share is used. Each model gets its
own fit: a larger remote window may carry more chunks than the local one.

Only what retrieval has evidence for goes in: chunks that share a word with the
question, and among the rest only the vectors' nearest ``VECTOR_ONLY_RANKS`` (every
chunk has some nearest neighbour, so a vector match alone says little). When no chunk
matched, nothing goes in and nothing is cited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from app.core.documents.retrieval import Hit
from app.core.documents.sources import Source
from app.core.providers.base import Provider
from app.core.storage.document_index import ChunkRow, CollectionRow

DOCUMENT_SHARE = 0.75
VECTOR_ONLY_RANKS = 2  # a chunk no word matched goes in only as one of the vectors' nearest few
MARGIN_TOKENS = 64  # chat-template tokens around the messages
INSTRUCTIONS = (
    "Excerpts from the user's own documents follow, each numbered. Answer from them when they are relevant "
    "and cite them by number, like [1]. If they do not contain the answer, say so plainly."
)


@dataclass(frozen=True)
class Fitted:
    text: str  # what is added to the system prompt
    sources: list[Source]

    def audit(self) -> dict[str, object]:
        """What the gate's audit records of it: which collections and chunks went."""
        return {
            "collections": sorted({source.collection for source in self.sources}),
            "chunks": [chunk_id for source in self.sources for chunk_id in source.chunk_ids],
        }


@dataclass(frozen=True)
class Grounding:
    """The documents found for one question in the collections a conversation uses."""

    question: str
    collections: Sequence[CollectionRow]
    hits: Sequence[Hit]
    whole_file: Sequence[ChunkRow] = field(default_factory=list)  # the best hit's file, when it is small

    @property
    def names(self) -> list[str]:
        return [collection.name for collection in self.collections]

    @property
    def local_only(self) -> list[str]:
        """The collections used that must never go to a remote tier."""
        return [collection.name for collection in self.collections if collection.local_only]

    @property
    def found_relevant(self) -> bool:
        return any(hit.matched_words for hit in self.hits)

    def note(self) -> str | None:
        """What the answer says about its sources when nothing relevant was found."""
        if self.found_relevant:
            return None
        names = ", ".join(f"'{name}'" for name in self.names)
        return f"Nothing in {names} matched this question, so the answer is not drawn from your documents."

    def fit(self, provider: Provider, system_prompt: str, answer_tokens: int) -> Fitted:
        room = provider.n_ctx - answer_tokens - MARGIN_TOKENS
        room -= provider.count_tokens(system_prompt) + provider.count_tokens(self.question)
        budget = int(room * DOCUMENT_SHARE) - provider.count_tokens(INSTRUCTIONS)
        blocks: list[str] = []
        sources: list[Source] = []
        used: set[int] = set()

        def add(rows: Sequence[ChunkRow], at: ChunkRow, whole: bool = False) -> bool:
            nonlocal budget
            source = Source.of(len(sources) + 1, list(rows), at, whole)
            title = f"{source.label} (the whole file)" if whole else source.label
            block = f"[{source.number}] {title}\n" + "\n\n".join(row.text for row in rows)
            cost = provider.count_tokens(block)
            if cost > budget:
                return False
            budget -= cost
            blocks.append(block)
            sources.append(source)
            used.update(source.chunk_ids)
            return True

        if not self.found_relevant:
            return Fitted("", [])
        if self.whole_file:
            add(self.whole_file, self.hits[0].chunk, whole=True)
        for hit in self.hits:
            near = hit.vector_rank is not None and hit.vector_rank <= VECTOR_ONLY_RANKS
            if hit.chunk.id in used or not (hit.matched_words or near):
                continue
            if not add([hit.chunk], hit.chunk):
                break
        if not blocks:
            return Fitted("", [])
        return Fitted(INSTRUCTIONS + "\n\n" + "\n\n".join(blocks), sources)
