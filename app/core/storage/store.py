"""The local SQLite database: conversations, messages and every attempt.

One ``Store`` per thread: a SQLite connection is used only by the thread that
opened it. WAL mode lets the window read while a worker writes; every write
runs in a transaction.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlite_utils.db import NotFoundError

from app.core.answers import Attempt
from app.core.errors import DamagedRecord, InvalidInput, NotFound
from app.core.storage.database import HearthDatabase, translating_errors
from app.core.storage.migrations import migrate, schema_is_current
from app.core.storage.rows import (
    AttemptRow,
    ConversationRow,
    MessageRow,
    MessageStatus,
    RoutingEventRow,
    SearchHit,
    SummaryRow,
    attempt_fields,
    damaged,
    lenient_conversation,
)

Row = TypeVar("Row", bound=BaseModel)
_NAMES = TypeAdapter(list[str])


@dataclass(frozen=True)
class Turn:
    """The rows one question and its answer were given."""

    conversation_id: int
    question_id: int
    answer_id: int


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _read(model: type[Row], raw: dict[str, Any], what: str) -> Row:
    """A stored row as ``model``: one that breaks a rule is a DamagedRecord naming it and its field."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise damaged(what, exc) from None


def _message(raw: dict[str, Any]) -> MessageRow:
    return _read(MessageRow, raw, f"Message {raw.get('id')} of conversation {raw.get('conversation_id')}")


def _attempt(raw: dict[str, Any]) -> AttemptRow:
    return _read(AttemptRow, raw, f"The attempt at position {raw.get('position')} of message {raw.get('message_id')}")


@translating_errors
class Store:
    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        # On a read-only disk SQLite cannot even open a WAL database normally; opened immutable,
        # the conversations can still be read, and each write says why it failed.
        read_only = path.exists() and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK))
        if read_only:
            self.db = HearthDatabase(sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True))
            return
        self.db = HearthDatabase(sqlite3.connect(str(path), timeout=10.0))
        self.db.execute("PRAGMA foreign_keys = ON")
        self.db.enable_wal()
        # In WAL mode, NORMAL still keeps every commit through a crash of the process (SIGKILL
        # included); only a power cut may lose the last commits. Streaming saves ten times a second.
        self.db.execute("PRAGMA synchronous = NORMAL")
        if not schema_is_current(self.db):
            migrate(self.db)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # Conversations
    def create_conversation(self, title: str = "New conversation", arm: str = "A", privacy: str | None = None) -> int:
        """``privacy``: the conversation's own policy (None: it follows the app's)."""
        now = _now()
        row = {"title": title, "created_at": now, "updated_at": now, "arm": arm, "privacy": privacy}
        with self.db.atomic():
            table = self.db["conversations"].insert(row)
        assert table.last_pk is not None
        return int(table.last_pk)

    def conversations(self) -> list[ConversationRow]:
        """Pinned first, then the most recently active."""
        rows = self.db["conversations"].rows_where(order_by="pinned desc, updated_at desc, id desc")
        return [lenient_conversation(row) for row in rows]

    def conversation(self, conversation_id: int) -> ConversationRow:
        """The conversation's row; one that breaks a rule comes with safe values and its ``problem``."""
        try:
            return lenient_conversation(self.db["conversations"].get(conversation_id))
        except NotFoundError:
            raise NotFound(f"There is no conversation {conversation_id}.") from None

    def rename_conversation(self, conversation_id: int, title: str) -> None:
        title = " ".join(title.split())
        if not title:
            raise InvalidInput("A conversation needs a title; the old one is kept.")
        self.conversation(conversation_id)
        with self.db.atomic():
            self.db["conversations"].update(conversation_id, {"title": title})

    def set_conversation_privacy(self, conversation_id: int, privacy: str | None) -> None:
        self.conversation(conversation_id)  # a clear error for an unknown id
        with self.db.atomic():
            self.db["conversations"].update(conversation_id, {"privacy": privacy})

    def delete_conversation(self, conversation_id: int) -> None:
        """Delete a conversation and everything of it, search index included."""
        ids = "SELECT id FROM messages WHERE conversation_id = ?"
        with self.db.atomic():
            for table in ("attempts", "routing_events", "feedback", "shadow_runs", "verdicts"):
                self.db.execute(f"DELETE FROM {table} WHERE message_id IN ({ids})", [conversation_id])
            for table in ("summaries", "outbound", "approvals"):
                self.db.execute(f"DELETE FROM {table} WHERE conversation_id = ?", [conversation_id])
            self.db.execute("DELETE FROM messages WHERE conversation_id = ?", [conversation_id])
            self.db.execute("DELETE FROM conversations WHERE id = ?", [conversation_id])

    def summary(self, conversation_id: int) -> SummaryRow | None:
        rows = list(self.db["summaries"].rows_where("conversation_id = ?", [conversation_id]))
        return _read(SummaryRow, rows[0], f"The summary of conversation {conversation_id}") if rows else None

    def save_summary(self, conversation_id: int, content: str, covers_through: int, edited: bool = False) -> None:
        with self.db.atomic():
            self.db["summaries"].upsert(
                {
                    "conversation_id": conversation_id,
                    "content": content,
                    "covers_through": covers_through,
                    "edited": int(edited),
                    "updated_at": _now(),
                },
                pk="conversation_id",
            )

    def set_pinned(self, conversation_id: int, pinned: bool) -> None:
        with self.db.atomic():
            self.db["conversations"].update(conversation_id, {"pinned": int(pinned)})

    def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        """Full-text search over all messages, best matches first, with highlighted snippets."""
        terms = " ".join('"' + word.replace('"', '""') + '"' for word in query.split())
        if not terms:
            return []
        rows = self.db.execute(
            "SELECT m.id, m.conversation_id, c.title, c.api_client, m.role, "
            "snippet(messages_fts, 0, '[', ']', '…', 12), m.created_at "
            "FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid "
            "JOIN conversations c ON c.id = m.conversation_id "
            "WHERE messages_fts MATCH ? ORDER BY rank LIMIT ?",
            [terms, limit],
        ).fetchall()
        keys = (
            "message_id", "conversation_id", "conversation_title", "conversation_api_client", "role", "snippet",
            "created_at",
        )  # fmt: skip
        return [SearchHit.model_validate(dict(zip(keys, row, strict=True))) for row in rows]

    # Messages
    def add_message(
        self,
        conversation_id: int,
        role: str,
        content: str,
        status: MessageStatus = "complete",
        *,
        version_of: int | None = None,
    ) -> int:
        """Add a message at the end of the branch on show, or as a new version of ``version_of``."""
        now = _now()
        with self.db.atomic():
            if version_of is None:
                after, root = self.conversation(conversation_id).leaf_id, None
            else:
                original = self.message(version_of)
                after, root = original.after_id, original.parent_id or original.id
            table = self.db["messages"].insert(
                {
                    "conversation_id": conversation_id,
                    "role": role,
                    "content": content,
                    "status": status,
                    "created_at": now,
                    "after_id": after,
                    "parent_id": root,
                }
            )
            self.db["conversations"].update(conversation_id, {"updated_at": now, "leaf_id": table.last_pk})
        assert table.last_pk is not None
        return int(table.last_pk)

    def begin_turn(
        self,
        conversation_id: int | None,
        question: str,
        route: dict[str, object],
        *,
        title: str = "New conversation",
        arm: str = "A",
        privacy: str | None = None,
        attachments: Sequence[str] = (),
        replaces: int | None = None,
        collections: Sequence[str] = (),
    ) -> Turn:
        """A question and its empty answer (and, without ``conversation_id``, a new conversation for them),
        in one transaction: a crash never leaves a question without the answer row that says what became of it.

        A new conversation is given ``title``, ``arm`` and its own ``privacy``; ``replaces``: the question
        is a new version of that one (an edit: a new branch); ``collections``: the document collections
        it is asked over."""
        with self.db.atomic():
            if conversation_id is None:
                conversation_id = self.create_conversation(title, arm=arm, privacy=privacy)
            question_id = self.add_message(conversation_id, "user", question, version_of=replaces)
            if attachments:
                self.set_message_meta(question_id, attachments=list(attachments))
            if collections:
                self.set_message_meta(question_id, collections=list(collections))
            answer_id = self.add_answer(conversation_id, route)
        return Turn(conversation_id, question_id, answer_id)

    def add_answer(self, conversation_id: int, route: dict[str, object], *, version_of: int | None = None) -> int:
        """An empty answer, incomplete until it is saved, with the route it is about to take."""
        with self.db.atomic():
            answer_id = self.add_message(conversation_id, "assistant", "", "incomplete", version_of=version_of)
            self.set_message_meta(answer_id, route=route)
        return answer_id

    def thread(self, conversation_id: int, limit: int | None = None, through: int | None = None) -> list[MessageRow]:
        """The branch on show (or the one ending at message ``through``), oldest first; its last ``limit``."""
        end = through if through is not None else self.conversation(conversation_id).leaf_id
        rows = self.db.execute(
            "WITH RECURSIVE path(id, after_id, depth) AS ("
            " SELECT m.id, m.after_id, 0 FROM messages m WHERE m.id = ?"
            " UNION ALL SELECT m.id, m.after_id, path.depth + 1 FROM messages m JOIN path ON m.id = path.after_id"
            " WHERE ? < 0 OR path.depth + 1 < ?)"
            # Read in id order, not sorted after the join: sorting copies whole rows, a long answer's
            # megabytes with them, into a temporary b-tree (6-20 ms for a 5 MB answer, 1-2 ms without).
            " SELECT * FROM messages WHERE id IN (SELECT id FROM path) ORDER BY id",
            [end, -1 if limit is None else limit, -1 if limit is None else limit],
        )
        names = [d[0] for d in rows.description]
        return [_message(dict(zip(names, row, strict=True))) for row in rows.fetchall()]

    def versions(self, message_id: int) -> list[MessageRow]:
        """Every version of a message (edits, regenerations), oldest first."""
        message = self.message(message_id)
        root = message.parent_id or message.id
        rows = self.db["messages"].rows_where("id = ? OR parent_id = ?", [root, root], order_by="id")
        return [_message(row) for row in rows]

    def show_version(self, message_id: int) -> None:
        """Show the branch through this version: down to its newest descendant."""
        leaf = message_id
        while child := self.db.execute("SELECT MAX(id) FROM messages WHERE after_id = ?", [leaf]).fetchone()[0]:
            leaf = child
        conversation = self.message(message_id).conversation_id
        with self.db.atomic():
            self.db["conversations"].update(conversation, {"leaf_id": leaf})

    def update_message(self, message_id: int, content: str, status: MessageStatus, warning: str | None = None) -> None:
        with self.db.atomic():
            self.db["messages"].update(message_id, {"content": content, "status": status, "warning": warning})

    def set_message_meta(self, message_id: int, **meta: object) -> None:
        """Store JSON metadata of a message: its ``route``, ``attachments``, ``sources`` or ``collections``."""
        with self.db.atomic():
            self.db["messages"].update(message_id, {key: json.dumps(value) for key, value in meta.items()})

    def conversation_collections(self, conversation_id: int) -> set[str]:
        """The document collections any question of the conversation (on any branch) was answered from."""
        sql = "SELECT collections FROM messages WHERE conversation_id = ? AND collections IS NOT NULL"
        names: set[str] = set()
        for (text,) in self.db.execute(sql, [conversation_id]):
            try:
                names.update(_NAMES.validate_json(text))
            except ValidationError:
                continue  # a damaged record names no collection
        return names

    def cost_since(self, since_iso: str) -> float:
        """What this installation spent since then (AttemptRow.spent: imported attempts count nothing)."""
        row = self.db.execute(
            "SELECT COALESCE(SUM(cost), 0) FROM attempts WHERE created_at >= ? AND imported = 0", [since_iso]
        )
        return float(row.fetchone()[0])

    def message(self, message_id: int) -> MessageRow:
        try:
            return _message(self.db["messages"].get(message_id))
        except NotFoundError:
            raise NotFound(f"There is no message {message_id}.") from None

    def recent_messages(self, conversation_id: int, limit: int = 200) -> list[MessageRow]:
        """The last ``limit`` messages of the branch on show: what opening a long conversation shows."""
        return self.thread(conversation_id, limit)

    def messages(self, conversation_id: int) -> list[MessageRow]:
        rows = self.db["messages"].rows_where("conversation_id = ?", [conversation_id], order_by="id")
        return [_message(row) for row in rows]

    # Attempts
    def add_attempts(self, message_id: int, attempts: list[Attempt], trigger: str = "auto") -> None:
        """Record attempts after those the message already has (a re-ask adds to them)."""
        now = _now()
        with self.db.atomic():
            first = self.db["attempts"].count_where("message_id = ?", [message_id])
            self.db["attempts"].insert_all(
                attempt_fields(message_id, position, attempt, trigger, now)
                for position, attempt in enumerate(attempts, start=first)
            )

    def put_attempt(self, message_id: int, position: int, attempt: Attempt, trigger: str = "auto") -> None:
        """Record the attempt at ``position``, replacing what was recorded there while it streamed."""
        with self.db.atomic():
            self.db.execute("DELETE FROM attempts WHERE message_id = ? AND position = ?", [message_id, position])
            self.db["attempts"].insert(attempt_fields(message_id, position, attempt, trigger, _now()))

    def set_attempt_reasons(self, message_id: int, reasons: dict[int, str]) -> None:
        """Reasons decided after an attempt was recorded (an ensemble's vote), by position."""
        if not reasons:
            return
        with self.db.atomic():
            for position, reason in reasons.items():
                self.db.execute(
                    "UPDATE attempts SET reason = ? WHERE message_id = ? AND position = ?",
                    [reason, message_id, position],
                )

    def attempts(self, message_id: int) -> list[AttemptRow]:
        rows = self.db["attempts"].rows_where("message_id = ?", [message_id], order_by="position")
        return [_attempt(row) for row in rows]

    def readable_attempts(self) -> tuple[list[AttemptRow], int]:
        """Every attempt that can be read, by message and position, and how many could not (for reports)."""
        readable, unreadable = [], 0
        for row in self.db["attempts"].rows_where(order_by="message_id, position"):
            try:
                readable.append(_attempt(row))
            except DamagedRecord:
                unreadable += 1
        return readable, unreadable

    # Routing events: the user overruling the cascade
    def add_routing_event(self, message_id: int, kind: str, from_tier: str | None, to_tier: str | None) -> None:
        with self.db.atomic():
            self.db["routing_events"].insert(
                {
                    "message_id": message_id,
                    "kind": kind,
                    "from_tier": from_tier,
                    "to_tier": to_tier,
                    "created_at": _now(),
                }
            )

    def routing_events(self) -> list[RoutingEventRow]:
        rows = self.db["routing_events"].rows_where(order_by="id")
        return [_read(RoutingEventRow, row, f"Routing event {row['id']}") for row in rows]

    # Feedback: thumbs up (+1) or down (-1) on an answer
    def add_feedback(self, message_id: int, rating: int) -> None:
        if rating not in (1, -1):
            raise InvalidInput("A rating is +1 (thumbs up) or -1 (thumbs down).")
        with self.db.atomic():
            self.db["feedback"].insert({"message_id": message_id, "rating": rating, "created_at": _now()})

    # Shadow runs: a challenger's silent answer compared with the one shown
    def add_shadow_run(self, run: dict[str, object]) -> None:
        with self.db.atomic():
            self.db["shadow_runs"].insert({**run, "created_at": _now()})
