"""The user's document collections: add, index, rescan, search, remove. What the window and the CLI call.

Indexing is a generator of progress events, one per file, so the caller decides how it
runs: the CLI prints them, the window's worker thread pauses by not asking for the next
one and cancels by closing it (the file in progress is finished or not started, never
half-stored: each file is one transaction).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from app.core.documents.chunking import chunks_of
from app.core.documents.embedding import Embedder
from app.core.documents.extract import extract
from app.core.documents.grounding import Grounding
from app.core.documents.retrieval import Hit, Method, retrieve
from app.core.documents.scanning import ScanPlan, Stat, files_under, plan
from app.core.errors import DocumentError, InvalidInput, NotFound
from app.core.storage.document_index import CollectionRow, DocumentIndex

WHOLE_FILE_TOKENS = 6000  # a best-matching file up to about this size is offered whole
EMBED_BATCH = 32
_NAME = re.compile(r"^[\w][\w .+-]{0,63}$")


@dataclass(frozen=True)
class IndexProgress:
    done: int
    total: int
    path: Path | None  # the file just indexed (None: the summary before the first one)
    note: str = ""  # what happened to it when it is not simply indexed: why it could not be read


class Library:
    def __init__(self, path: Path, embedder: Embedder | None):
        """``embedder`` None: full-text search only (no embedding model is installed)."""
        self.path = path
        self.embedder = embedder

    def open(self) -> DocumentIndex:
        """An index connection for the calling thread."""
        return DocumentIndex(self.path)

    def _collection(self, index: DocumentIndex, name: str) -> CollectionRow:
        found = index.collection(name)
        if found is None:
            known = ", ".join(c.name for c in index.collections()) or "none yet"
            raise NotFound(f"There is no document collection '{name}' (collections: {known}).")
        return found

    def add(self, name: str, paths: Sequence[Path], local_only: bool = False) -> CollectionRow:
        """Add files or folders to the collection ``name`` (made if new); index them with ``index``."""
        if not _NAME.match(name):
            raise InvalidInput(
                f"'{name}' cannot name a collection: use up to 64 letters, digits, spaces, '.', '+' or '-'."
            )
        missing = [str(path) for path in paths if not path.exists()]
        if missing:
            raise InvalidInput(f"Not found: {', '.join(missing)}. Check the path and add it again.")
        index = self.open()
        try:
            collection = index.collection(name) or index.create_collection(name, local_only)
            if local_only and not collection.local_only:
                index.set_local_only(collection.id, True)
            index.add_roots(collection.id, [path.absolute() for path in paths])
            return self._collection(index, name)
        finally:
            index.close()

    def collections(self) -> list[CollectionRow]:
        index = self.open()
        try:
            return index.collections()
        finally:
            index.close()

    def folders(self) -> dict[str, list[Path]]:
        """Each collection's roots, the files and folders the user added (what a watcher watches)."""
        index = self.open()
        try:
            return {collection.name: index.roots(collection.id) for collection in index.collections()}
        finally:
            index.close()

    def set_local_only(self, name: str, local_only: bool) -> None:
        index = self.open()
        try:
            index.set_local_only(self._collection(index, name).id, local_only)
        finally:
            index.close()

    def remove(self, name: str) -> None:
        """The collection's text, vectors and index rows are deleted; the files themselves are not touched."""
        index = self.open()
        try:
            index.remove_collection(self._collection(index, name).id)
        finally:
            index.close()

    def index(self, name: str) -> Iterator[IndexProgress]:
        """Bring the collection up to date with its folders: only what changed is read again."""
        index = self.open()
        try:
            collection = self._collection(index, name)
            found = list(files_under(index.roots(collection.id)))
            changes = plan(index.files(collection.id), found)
            if self.embedder is not None:
                index.use_embedder(self.embedder.name, self.embedder.dimensions)
            yield from self._apply(index, collection, changes)
        finally:
            index.close()

    def _apply(self, index: DocumentIndex, collection: CollectionRow, changes: ScanPlan) -> Iterator[IndexProgress]:
        for row, path, stat in changes.moved:
            index.move_file(row.id, path, stat[1])
        for row, mtime in changes.touched:
            index.touch_file(row.id, mtime)
        for row in changes.deleted:
            index.delete_file(row.id)
        total = changes.work
        yield IndexProgress(0, total, None, changes.summary())
        for done, (path, stat) in enumerate([*changes.new, *changes.changed], start=1):
            yield IndexProgress(done, total, path, self._index_file(index, collection, path, stat))
        if self.embedder is not None:
            yield from self._embed_missing(index, collection, total)

    def _index_file(self, index: DocumentIndex, collection: CollectionRow, path: Path, stat: Stat) -> str:
        try:
            chunks = list(chunks_of(extract(path)))
        except DocumentError as exc:
            index.put_file(collection.id, path, stat, [], None, 0, error=str(exc))
            return str(exc)
        vectors = self.embedder.embed([chunk.text for chunk in chunks]) if self.embedder and chunks else None
        tokens = sum(len(chunk.text) for chunk in chunks) // 4
        index.put_file(collection.id, path, stat, chunks, vectors, tokens)
        return "" if chunks else "no text found in it"

    def _embed_missing(self, index: DocumentIndex, collection: CollectionRow, total: int) -> Iterator[IndexProgress]:
        """Chunks indexed before this embedding model was chosen get their vectors now."""
        assert self.embedder is not None
        while batch := index.chunks_without_vectors(collection.id, EMBED_BATCH):
            ids, texts = zip(*batch, strict=True)
            index.put_vectors(collection.id, ids, self.embedder.embed(texts))
            yield IndexProgress(total, total, None, f"computed vectors for {len(ids)} earlier chunks")

    def search(self, names: Sequence[str], question: str, limit: int = 8, method: Method = "merged") -> list[Hit]:
        index = self.open()
        try:
            ids = [self._collection(index, name).id for name in names]
            return retrieve(index, self.embedder, ids, question, limit, method)
        finally:
            index.close()

    def ground(self, names: Sequence[str], question: str, limit: int = 8) -> Grounding:
        """What the collections ``names`` hold for ``question``, ready to fit into any model's context."""
        index = self.open()
        try:
            collections = [self._collection(index, name) for name in names]
            hits = retrieve(index, self.embedder, [c.id for c in collections], question, limit)
            whole = []
            if hits and hits[0].chunk.file_tokens <= WHOLE_FILE_TOKENS:
                whole = index.file_chunks(hits[0].chunk.file_id)
            return Grounding(question, collections, hits, whole)
        finally:
            index.close()
