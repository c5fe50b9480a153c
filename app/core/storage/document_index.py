"""The document index: collections, files, chunks, full text (FTS5) and vectors (sqlite-vec). All its SQL.

Why a file of its own (``documents.db`` beside ``hearth.db``) and not tables in the history:
the index is derived data — it can always be built again from the user's files — and it
is large, so it stays out of the history's daily backups and exports; and its vector
table needs the sqlite-vec extension, which the history's readers (backups, recovery,
imports) must never depend on. Only what the user did — which chunks an answer used,
which went out through the gate — is recorded in the history.

Why apsw and not the standard ``sqlite3`` module: loading an extension needs a Python
built with it, and many are not (pyenv's and python.org's macOS builds among them);
apsw ships its own current SQLite, with FTS5 and extension loading, for every OS.

Deleted text does not linger: ``secure_delete`` overwrites freed pages, and the
full-text index is merged after a collection or file goes.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import apsw
import numpy as np
import sqlite_vec
from pydantic import BaseModel

from app.core.errors import StorageError

P = ParamSpec("P")
R = TypeVar("R")

_SCHEMA = [
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE collections (
        id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, local_only INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL);
    CREATE TABLE roots (
        collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE, path TEXT NOT NULL,
        PRIMARY KEY (collection_id, path));
    CREATE TABLE files (
        id INTEGER PRIMARY KEY, collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
        path TEXT NOT NULL, size INTEGER NOT NULL, mtime REAL NOT NULL, sha256 TEXT NOT NULL,
        tokens INTEGER NOT NULL DEFAULT 0, error TEXT, indexed_at TEXT NOT NULL, UNIQUE (collection_id, path));
    CREATE TABLE chunks (
        id INTEGER PRIMARY KEY, file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
        ordinal INTEGER NOT NULL, heading TEXT, page INTEGER, line INTEGER, text TEXT NOT NULL);
    CREATE INDEX chunks_file ON chunks(file_id, ordinal);
    CREATE VIRTUAL TABLE chunks_fts USING fts5(
        text, heading, content='chunks', content_rowid='id', tokenize='porter unicode61');
    CREATE TRIGGER chunks_in AFTER INSERT ON chunks BEGIN
        INSERT INTO chunks_fts(rowid, text, heading) VALUES (new.id, new.text, coalesce(new.heading, ''));
    END;
    CREATE TRIGGER chunks_out AFTER DELETE ON chunks BEGIN
        INSERT INTO chunks_fts(chunks_fts, rowid, text, heading)
            VALUES ('delete', old.id, old.text, coalesce(old.heading, ''));
    END;
    """,
]

# Words too common to say anything about which chunk answers a question.
_STOPWORDS = frozenset(
    "a an and are as at be by can do does for from how i in is it me my of on or that the this to was "
    "what when where which who why will with you your".split()
)


@dataclass(frozen=True)
class TextChunk:
    text: str
    heading: str | None
    page: int | None
    line: int | None


class CollectionRow(BaseModel):
    id: int
    name: str
    local_only: bool
    created_at: str
    files: int = 0
    chunks: int = 0


class FileRow(BaseModel):
    id: int
    collection_id: int
    path: str
    size: int
    mtime: float
    sha256: str
    tokens: int
    error: str | None


class ChunkRow(BaseModel):
    id: int
    file_id: int
    ordinal: int
    heading: str | None
    page: int | None
    line: int | None
    text: str
    path: str
    collection: str
    local_only: bool
    file_tokens: int


def _translating(method: Callable[Concatenate[DocumentIndex, P], R]) -> Callable[Concatenate[DocumentIndex, P], R]:
    """apsw's errors, translated once: what happened to the index file, and what to do."""

    @functools.wraps(method)
    def wrapper(index: DocumentIndex, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(index, *args, **kwargs)
        except apsw.FullError:
            problem = "cannot grow: the disk is full. Free some space and index again."
        except (apsw.CorruptError, apsw.NotADBError):
            problem = "is damaged. Delete it: Hearth builds it again from your files."
        except (apsw.CantOpenError, apsw.ReadOnlyError, apsw.IOError, apsw.BusyError) as exc:
            problem = f"cannot be written or read ({exc})."
        raise StorageError(f"The document index {index.path} {problem}", file=index.path)

    return wrapper


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def fts_query(question: str) -> str | None:
    """The question as an FTS5 query: its meaningful words, any of which may match (None: no such word)."""
    words = [w for w in re.findall(r"\w+", question.lower()) if w not in _STOPWORDS and len(w) > 1]
    return " OR ".join(f'"{word}"' for word in dict.fromkeys(words)) or None


class DocumentIndex:
    """One connection to the index file, used on the thread that opened it."""

    @_translating
    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = apsw.Connection(str(path))
        self.db.enable_load_extension(True)
        self.db.load_extension(sqlite_vec.loadable_path())
        self.db.enable_load_extension(False)
        self.db.set_busy_timeout(5000)
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "secure_delete=ON", "synchronous=NORMAL"):
            self.db.execute(f"PRAGMA {pragma}")
        version = self._one("PRAGMA user_version")
        for number, script in enumerate(_SCHEMA[version:], start=version + 1):
            with self.db:
                self.db.execute(script)
                self.db.execute(f"PRAGMA user_version = {number}")

    def close(self) -> None:
        self.db.close()

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.db.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> Iterator[dict[str, Any]]:
        cursor = self.db.execute(sql, params)
        names: list[str] | None = None
        for row in cursor:
            names = names or [column[0] for column in cursor.get_description()]
            yield dict(zip(names, row, strict=True))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.db:
            yield

    # Collections
    @_translating
    def create_collection(self, name: str, local_only: bool) -> CollectionRow:
        with self.db:
            self.db.execute(
                "INSERT INTO collections(name, local_only, created_at) VALUES (?, ?, ?)", (name, local_only, _now())
            )
        found = self.collection(name)
        assert found is not None
        return found

    @_translating
    def collection(self, name: str) -> CollectionRow | None:
        return next(iter(self.collections(name)), None)

    @_translating
    def collections(self, name: str | None = None) -> list[CollectionRow]:
        where = "WHERE c.name = ?" if name is not None else ""
        sql = f"""
            SELECT c.*, (SELECT count(*) FROM files f WHERE f.collection_id = c.id) AS files,
                   (SELECT count(*) FROM chunks k JOIN files f ON f.id = k.file_id WHERE f.collection_id = c.id)
                   AS chunks
            FROM collections c {where} ORDER BY c.name COLLATE NOCASE"""
        return [CollectionRow(**row) for row in self._rows(sql, [name] if name is not None else [])]

    @_translating
    def set_local_only(self, collection_id: int, local_only: bool) -> None:
        with self.db:
            self.db.execute("UPDATE collections SET local_only = ? WHERE id = ?", (local_only, collection_id))

    @_translating
    def remove_collection(self, collection_id: int) -> None:
        """Its text, vectors and index rows go; the freed pages are overwritten (secure_delete)."""
        with self.db:
            if self._has_vectors():
                self.db.execute("DELETE FROM vectors WHERE collection_id = ?", (collection_id,))
            self.db.execute(
                "DELETE FROM chunks WHERE file_id IN (SELECT id FROM files WHERE collection_id = ?)", (collection_id,)
            )
            self.db.execute("DELETE FROM collections WHERE id = ?", (collection_id,))
        self._compact()

    def _compact(self) -> None:
        """Merge the full-text index, so the deleted words are gone from its segments too."""
        with self.db:
            self.db.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('optimize')")
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    @_translating
    def add_roots(self, collection_id: int, paths: Sequence[Path]) -> None:
        with self.db:
            for path in paths:
                self.db.execute("INSERT OR IGNORE INTO roots VALUES (?, ?)", (collection_id, str(path)))

    @_translating
    def roots(self, collection_id: int) -> list[Path]:
        rows = self._rows("SELECT path FROM roots WHERE collection_id = ? ORDER BY path", [collection_id])
        return [Path(row["path"]) for row in rows]

    # Files
    @_translating
    def files(self, collection_id: int) -> list[FileRow]:
        rows = self._rows("SELECT * FROM files WHERE collection_id = ? ORDER BY path", [collection_id])
        return [FileRow(**{k: v for k, v in row.items() if k != "indexed_at"}) for row in rows]

    @_translating
    def put_file(
        self,
        collection_id: int,
        path: Path,
        stat: tuple[int, float, str],
        chunks: Sequence[TextChunk],
        vectors: np.ndarray | None,
        tokens: int,
        error: str | None = None,
    ) -> None:
        """Index ``path`` (size, mtime, sha256 in ``stat``) anew: its earlier chunks and vectors go."""
        size, mtime, sha256 = stat
        with self.db:
            old = self._one("SELECT id FROM files WHERE collection_id = ? AND path = ?", (collection_id, str(path)))
            if old is not None:
                self._delete_file(old)
            self.db.execute(
                "INSERT INTO files(collection_id, path, size, mtime, sha256, tokens, error, indexed_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (collection_id, str(path), size, mtime, sha256, tokens, error, _now()),
            )
            file_id = self.db.last_insert_rowid()
            for ordinal, chunk in enumerate(chunks):
                self.db.execute(
                    "INSERT INTO chunks(file_id, ordinal, heading, page, line, text) VALUES (?, ?, ?, ?, ?, ?)",
                    (file_id, ordinal, chunk.heading, chunk.page, chunk.line, chunk.text),
                )
                if vectors is not None:
                    self.db.execute(
                        "INSERT INTO vectors(rowid, collection_id, embedding) VALUES (?, ?, ?)",
                        (self.db.last_insert_rowid(), collection_id, vectors[ordinal].astype(np.float32).tobytes()),
                    )

    @_translating
    def move_file(self, file_id: int, path: Path, mtime: float) -> None:
        """The same content under a new name: only the path changes, nothing is computed again."""
        with self.db:
            self.db.execute("UPDATE files SET path = ?, mtime = ? WHERE id = ?", (str(path), mtime, file_id))

    @_translating
    def touch_file(self, file_id: int, mtime: float) -> None:
        with self.db:
            self.db.execute("UPDATE files SET mtime = ? WHERE id = ?", (mtime, file_id))

    @_translating
    def delete_file(self, file_id: int) -> None:
        with self.db:
            self._delete_file(file_id)

    def _delete_file(self, file_id: int) -> None:
        if self._has_vectors():
            ids = [row["id"] for row in self._rows("SELECT id FROM chunks WHERE file_id = ?", [file_id])]
            for chunk_id in ids:
                self.db.execute("DELETE FROM vectors WHERE rowid = ?", (chunk_id,))
        self.db.execute("DELETE FROM chunks WHERE file_id = ?", (file_id,))
        self.db.execute("DELETE FROM files WHERE id = ?", (file_id,))

    # Vectors
    def _has_vectors(self) -> bool:
        return self._one("SELECT count(*) FROM sqlite_master WHERE name = 'vectors'") == 1

    @_translating
    def vectors_by(self) -> str | None:
        """The embedder whose vectors the index holds (None: none yet)."""
        return self._one("SELECT value FROM meta WHERE key = 'embedder'")

    @_translating
    def use_embedder(self, name: str, dimensions: int) -> bool:
        """Vectors from now on come from ``name``; True when earlier ones (another model's) were dropped."""
        if self.vectors_by() == name and self._has_vectors():
            return False
        had = self._has_vectors()
        with self.db:
            self.db.execute("DROP TABLE IF EXISTS vectors")
            self.db.execute(
                f"CREATE VIRTUAL TABLE vectors USING vec0(collection_id integer partition key, "
                f"embedding float[{int(dimensions)}] distance_metric=cosine)"
            )
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('embedder', ?)", (name,))
        return had

    @_translating
    def chunks_without_vectors(self, collection_id: int, limit: int = 64) -> list[tuple[int, str]]:
        sql = """SELECT k.id, k.text FROM chunks k JOIN files f ON f.id = k.file_id
                 WHERE f.collection_id = ? AND k.id NOT IN (SELECT rowid FROM vectors) ORDER BY k.id LIMIT ?"""
        return [(row["id"], row["text"]) for row in self._rows(sql, [collection_id, limit])]

    @_translating
    def put_vectors(self, collection_id: int, ids: Sequence[int], vectors: np.ndarray) -> None:
        with self.db:
            for chunk_id, vector in zip(ids, vectors, strict=True):
                self.db.execute(
                    "INSERT INTO vectors(rowid, collection_id, embedding) VALUES (?, ?, ?)",
                    (chunk_id, collection_id, vector.astype(np.float32).tobytes()),
                )

    # Retrieval
    @_translating
    def search_text(self, question: str, collection_ids: Sequence[int], k: int) -> list[int]:
        """Chunk ids matching the question's words, best (BM25) first."""
        query = fts_query(question)
        if query is None or not collection_ids:
            return []
        marks = ",".join("?" * len(collection_ids))
        sql = f"""SELECT chunks_fts.rowid AS id FROM chunks_fts
                  JOIN chunks k ON k.id = chunks_fts.rowid JOIN files f ON f.id = k.file_id
                  WHERE chunks_fts MATCH ? AND f.collection_id IN ({marks}) ORDER BY rank LIMIT ?"""
        return [row["id"] for row in self._rows(sql, [query, *collection_ids, k])]

    @_translating
    def search_vectors(self, vector: np.ndarray, collection_ids: Sequence[int], k: int) -> list[tuple[int, float]]:
        """(chunk id, cosine distance) of the nearest chunks, nearest first."""
        if not self._has_vectors():
            return []
        found: list[tuple[int, float]] = []
        blob = vector.astype(np.float32).tobytes()
        for collection_id in collection_ids:
            rows = self._rows(
                "SELECT rowid AS id, distance FROM vectors WHERE embedding MATCH ? AND k = ? AND collection_id = ?",
                [blob, k, collection_id],
            )
            found.extend((row["id"], row["distance"]) for row in rows)
        return sorted(found, key=lambda hit: hit[1])[:k]

    _CHUNK_SQL = """SELECT k.*, f.path, f.tokens AS file_tokens, c.name AS collection, c.local_only
                    FROM chunks k JOIN files f ON f.id = k.file_id JOIN collections c ON c.id = f.collection_id"""

    @_translating
    def chunks(self, ids: Sequence[int]) -> list[ChunkRow]:
        """The chunks ``ids``, in that order (ids no longer indexed are left out)."""
        if not ids:
            return []
        rows = self._rows(f"{self._CHUNK_SQL} WHERE k.id IN ({','.join('?' * len(ids))})", list(ids))
        by_id = {row["id"]: ChunkRow(**row) for row in rows}
        return [by_id[i] for i in ids if i in by_id]

    @_translating
    def file_chunks(self, file_id: int) -> list[ChunkRow]:
        rows = self._rows(f"{self._CHUNK_SQL} WHERE k.file_id = ? ORDER BY k.ordinal", [file_id])
        return [ChunkRow(**row) for row in rows]

    @_translating
    def size_bytes(self) -> int:
        return int(self._one("PRAGMA page_count")) * int(self._one("PRAGMA page_size"))
