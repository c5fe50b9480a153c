"""Finding the chunks that answer a question: full text and vectors, merged by reciprocal rank fusion.

Each method ranks its own ``DEPTH`` best chunks; a chunk's merged score is the sum of
1 / (RRF_K + rank) over the methods that found it (Cormack et al., 2009), so a chunk both
methods rank well beats one that only one method likes, and neither method's raw scores
(BM25, cosine distance) need to be put on a common scale.

Whether anything relevant was found: a chunk that shares a meaningful word with the
question is evidence; a vector neighbour alone is not (every chunk has a nearest one).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from app.core.documents.embedding import Embedder
from app.core.storage.document_index import ChunkRow, DocumentIndex

RRF_K = 60
DEPTH = 50  # chunks each method ranks before merging
Method = Literal["text", "vector", "merged"]


@dataclass(frozen=True)
class Hit:
    chunk: ChunkRow
    score: float
    text_rank: int | None  # 1-based rank in the full-text results, None if it matched no word
    vector_rank: int | None

    @property
    def matched_words(self) -> bool:
        return self.text_rank is not None


def fuse(rankings: Sequence[Sequence[int]], k: int = RRF_K) -> list[tuple[int, float]]:
    """Reciprocal rank fusion of several rankings of ids: (id, score), best first."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))


def retrieve(
    index: DocumentIndex,
    embedder: Embedder | None,
    collection_ids: Sequence[int],
    question: str,
    limit: int = 8,
    method: Method = "merged",
) -> list[Hit]:
    """The ``limit`` best chunks of those collections for ``question`` (vectors only where an embedder is set)."""
    text = index.search_text(question, collection_ids, DEPTH) if method != "vector" else []
    vector: list[int] = []
    if method != "text" and embedder is not None and index.vectors_by() == embedder.name:
        query = embedder.embed([question])[0]
        vector = [chunk_id for chunk_id, _ in index.search_vectors(query, collection_ids, DEPTH)]
    ranked = fuse([ranking for ranking in (text, vector) if ranking])[:limit]
    text_rank = {chunk_id: rank for rank, chunk_id in enumerate(text, start=1)}
    vector_rank = {chunk_id: rank for rank, chunk_id in enumerate(vector, start=1)}
    rows = {row.id: row for row in index.chunks([chunk_id for chunk_id, _ in ranked])}
    return [
        Hit(rows[chunk_id], score, text_rank.get(chunk_id), vector_rank.get(chunk_id))
        for chunk_id, score in ranked
        if chunk_id in rows
    ]
