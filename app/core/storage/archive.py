"""Getting conversations out and back in, and the daily upkeep (backup, retention).

The JSON export holds everything of a conversation (messages with their
status, branches, route, and every attempt) and imports back as new
conversations. An import is validated by the same field models the reader
uses (app/core/storage/rows.py), so a value the reader would refuse refuses the whole
file, naming the conversation, message and field, and nothing is stored.
What a file cannot vouch for is never taken from it: imported attempts are
marked imported (they never count towards a budget and are no audit rows);
attachments, document sources and collections are dropped (they named files
and collections of the computer that exported them, and a source's path is
opened on a click); the program that asked through the local API is dropped
(a later API request must not continue a conversation it never had); and a
conversation keeps its own privacy only if it is no wider than the app's (a
file can make a conversation more private, never less). A file that cannot be
read (too large, nested too deeply, text that is no Unicode) is refused with a
DataError or FileError that says why, before anything is stored.

The Markdown export is for reading. Every message body is a block quote, so
nothing an answer says (a line "**You**", a heading, an unclosed code fence)
can end it and pass for a turn of its own.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from app.core.config.schema import Privacy
from app.core.errors import DamagedRecord, DataError
from app.core.nested_text import read_json
from app.core.storage import backups
from app.core.storage.rows import AttemptFields, ConversationFields, MessageFields, field_problems
from app.core.storage.store import Store
from app.core.user_files import read_regular

FORMAT = "hearth-export"
VERSION = 1
MOST_BYTES = 200_000_000  # far above any real history, well below what a desktop can parse


class _Exported(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExportedAttempt(_Exported, AttemptFields):
    pass


class ExportedMessage(_Exported, MessageFields):
    id: int
    attempts: list[ExportedAttempt] = []


class ExportedConversation(_Exported, ConversationFields):
    messages: list[ExportedMessage]


class ExportDocument(_Exported):
    format: str = FORMAT
    version: int = VERSION
    exported_at: str
    conversations: list[ExportedConversation]


def _exported(store: Store, conversation_id: int) -> ExportedConversation:
    """One conversation as it exports; DamagedRecord if any of it breaks a rule."""
    row = store.conversation(conversation_id)
    if row.problem:
        raise DamagedRecord(f"Conversation {conversation_id} “{row.title}” cannot be exported: {row.problem}.")
    messages = [
        ExportedMessage(
            **message.model_dump(exclude={"conversation_id"}),
            attempts=[
                ExportedAttempt(**attempt.model_dump(exclude={"id", "message_id", "imported"}))
                for attempt in store.attempts(message.id)
            ],
        )
        for message in store.messages(conversation_id)
    ]
    return ExportedConversation(**row.model_dump(exclude={"id", "problem"}), messages=messages)


def _document(conversations: list[ExportedConversation]) -> ExportDocument:
    return ExportDocument(exported_at=datetime.now(UTC).isoformat(timespec="seconds"), conversations=conversations)


def export(store: Store, conversation_ids: list[int]) -> ExportDocument:
    """These conversations; one that cannot be read stops the export with a DamagedRecord naming it."""
    return _document([_exported(store, conversation_id) for conversation_id in conversation_ids])


def export_readable(store: Store) -> tuple[ExportDocument, list[str]]:
    """Every conversation that can be read, and why each of the others was left out."""
    exported, left_out = [], []
    for row in store.conversations():
        try:
            exported.append(_exported(store, row.id))
        except DamagedRecord as exc:
            left_out.append(str(exc))
    return _document(exported), left_out


def _one_line(text: str) -> str:
    """A value shown in a heading (a title, a model's name), on one line so it cannot start another."""
    return " ".join(text.split())


def _quoted_body(text: str) -> str:
    """A message as a block quote: every line (a Markdown line ends at CR or LF), blank ones too, starts
    with ">", so nothing in it ends the quote."""
    return "\n".join(f"> {line}" if line else ">" for line in re.split(r"\r\n|\r|\n", text))


def to_markdown(document: ExportDocument) -> str:
    parts = []
    for conversation in document.conversations:
        when = conversation.created_at[:16].replace("T", " ")  # an ISO time: one line
        parts.append(f"# {_one_line(conversation.title)}\n\n_{when} UTC_\n")
        for message in conversation.messages:
            who = {"user": "You", "assistant": "Hearth", "system": "System"}[message.role]
            shown = [a for a in message.attempts if a.error is None and a.text == message.content]
            where = f" ({_one_line(shown[-1].tier)} · {_one_line(shown[-1].model)})" if shown else ""
            note = "" if message.status == "complete" else f" — {message.status}"
            parts.append(f"**{who}{where}{note}**\n\n{_quoted_body(message.content)}\n")
    return "\n".join(parts)


def as_text(document: ExportDocument, markdown: bool) -> str:
    """The export as Markdown to read, or as JSON that imports back losslessly."""
    return to_markdown(document) if markdown else document.model_dump_json(indent=2)


def read_document(path: Path) -> ExportDocument:
    """A Hearth export, checked whole: the first rule it breaks is named (conversation, message, field)."""
    raw = _parsed(path)
    kind = raw.get("format") if isinstance(raw, dict) else None
    if kind != FORMAT:
        found = "" if kind is None else f"; its format is {_quoted(kind)}"
        raise DataError(f'is not a Hearth JSON export (it has no "format": "{FORMAT}"{found})', file=path)
    if not isinstance(raw.get("version"), int) or raw["version"] > VERSION:
        raise DataError(f"is a {FORMAT} file of version {_quoted(raw.get('version'))}; this Hearth reads v1", file=path)
    try:
        document = ExportDocument.model_validate(raw)
    except ValidationError as exc:
        raise DataError(f"{_refusal(exc, raw)}. Nothing was imported.", file=path) from None
    problem = _unencodable(raw) or _broken_reference(document)
    if problem:
        raise DataError(f"{problem}. Nothing was imported.", file=path)
    return document


def _parsed(path: Path) -> Any:
    """The file's JSON; a DataError says why it cannot be read (a FileError: no ordinary file, too large)."""
    data = read_regular(path, MOST_BYTES, "conversation import")
    try:
        return read_json(data)
    except ValueError as exc:  # malformed JSON, bytes that are no UTF-8, or nesting too deep
        reason = str(exc).splitlines()[0]
    raise DataError(f"is not a Hearth JSON export ({reason})", file=path)


def _quoted(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


ROWS = {"conversations": "conversation", "messages": "message", "attempts": "attempt"}


def _row_path(location: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """The part of an error's location that leads to a row: ("conversations", 0, "messages", 3)."""
    depth = 0
    while len(location) > depth + 2 and location[depth] in ROWS and isinstance(location[depth + 1], int):
        depth += 2
    return location[:depth]


def _refusal(error: ValidationError, raw: dict[str, Any]) -> str:
    """Which row of the file the first broken rule is in ("conversation 2 “Trip”, message 3 (id 7)"), and what."""
    path = _row_path(error.errors()[0]["loc"])
    here = [detail for detail in error.errors() if _row_path(detail["loc"]) == path]
    return _row_words(path, raw) + field_problems(here, skip=len(path))


def _row_words(path: tuple[int | str, ...], raw: dict[str, Any]) -> str:
    """The row ``path`` leads to, in words with a colon ("conversation 2 “Trip”, message 3 (id 7): "), or ""."""
    where, node = [], raw
    for kind, index in zip(path[::2], path[1::2], strict=True):
        node = node[kind][index]
        words = f"{ROWS[str(kind)]} {int(index) + 1}"
        if kind == "conversations" and isinstance(node.get("title"), str):
            title = repr(node["title"])[1:-1]  # control characters escaped
            words += f" “{title if len(title) <= 40 else title[:39] + '…'}”"
        if kind == "messages" and isinstance(node.get("id"), int):
            words += f" (id {node['id']})"
        where.append(words)
    return ", ".join(where) + ": " if where else ""


def _unencodable(raw: dict[str, Any]) -> str | None:
    """Where the file has text no database can store (a lone surrogate such as "\\ud800"), in words, or None."""
    pending: list[tuple[tuple[int | str, ...], Any]] = [((), raw)]
    while pending:  # a stack, not recursion: the parser let through as many levels as recursion can follow
        location, node = pending.pop()
        if not _encodes(location[-1] if location else "") or not _encodes(node):
            row = _row_path(location)
            field = repr(".".join(map(str, location[len(row) :])))[1:-1]  # the surrogate escaped
            return f"{_row_words(row, raw)}its field '{field}' holds text that is no Unicode (a lone surrogate)"
        children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        pending.extend(reversed([((*location, key), value) for key, value in children]))
    return None


def _encodes(value: object) -> bool:
    """Whether ``value`` is no text, or text that UTF-8 (and so SQLite) can store."""
    if not isinstance(value, str):
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _broken_reference(document: ExportDocument) -> str | None:
    """A message that follows or revises one that is not before it in its conversation, or a lost leaf."""
    for number, conversation in enumerate(document.conversations, start=1):
        seen: set[int] = set()
        for message in conversation.messages:
            if message.id in seen:
                return f"conversation {number}: two messages have the id {message.id}"
            for name in ("parent_id", "after_id"):
                other = getattr(message, name)
                if other is not None and other not in seen:
                    return f"conversation {number}, message {message.id}: its {name} {other} is no earlier message"
            seen.add(message.id)
        if conversation.leaf_id is not None and conversation.leaf_id not in seen:
            return f"conversation {number}: its leaf_id {conversation.leaf_id} is none of its messages"
    return None


def _own_privacy(asked: Privacy | None, app_policy: Privacy) -> Privacy | None:
    """The imported conversation's own policy if it is no wider than the app's, else none (it follows the app's):
    a file can make a conversation more private, never less."""
    return asked if asked is not None and not asked.wider_than(app_policy) else None


def import_document(store: Store, document: ExportDocument, app_policy: Privacy = Privacy.LOCAL_ONLY) -> list[int]:
    """Add the document's conversations as new ones, in one transaction (ids are new).

    ``app_policy`` is the app-wide privacy (settings.privacy); a conversation policy wider than it is dropped.
    The default, the most private, keeps only local-only ones.
    """
    created = []
    with store.db.atomic():
        for conversation in document.conversations:
            fields = conversation.model_dump(mode="json", exclude={"messages", "leaf_id"})
            fields["pinned"] = int(conversation.pinned)
            own = _own_privacy(conversation.privacy, app_policy)
            fields["privacy"] = own.value if own else None
            fields["api_client"] = None  # a later local-API request must not continue a conversation from a file
            conversation_id = int(store.db["conversations"].insert(fields).last_pk)
            new_ids: dict[int, int] = {}
            for message in conversation.messages:  # in file order: what a message refers to came before it
                row = message.model_dump(mode="json", exclude={"id", "attempts"})
                row["parent_id"] = new_ids.get(message.parent_id) if message.parent_id else None
                row["after_id"] = new_ids.get(message.after_id) if message.after_id else None
                row["attachments"] = None  # paths on the computer that exported it: never read from here
                row["sources"] = None  # that computer's documents: their paths are opened on a click
                row["collections"] = None  # that computer's collections, not this one's
                inserted = store.db["messages"].insert({**row, "conversation_id": conversation_id})
                new_ids[message.id] = int(inserted.last_pk)
                store.db["attempts"].insert_all(
                    {
                        **attempt.model_dump(mode="json"),
                        "signals": json.dumps(attempt.signals),
                        "message_id": new_ids[message.id],
                        "imported": 1,
                    }
                    for attempt in message.attempts
                )
            leaf = new_ids.get(conversation.leaf_id) if conversation.leaf_id else None
            store.db["conversations"].update(conversation_id, {"leaf_id": leaf})
            created.append(conversation_id)
    return created


def apply_retention(store: Store, days: int, now: datetime | None = None) -> int:
    """Delete conversations untouched for ``days`` days (pinned ones stay); returns how many."""
    cutoff = ((now or datetime.now(UTC)) - timedelta(days=days)).isoformat(timespec="milliseconds")
    old = [c.id for c in store.conversations() if not c.pinned and c.updated_at < cutoff]
    for conversation_id in old:
        store.delete_conversation(conversation_id)
    return len(old)


BACKUP_EVERY = timedelta(days=1)


def daily_upkeep(store: Store, database: Path, folder: Path, backups_kept: int, retention_days: int | None) -> None:
    """What runs once a day in the background: a checked backup if the newest is a day old, then retention.

    A backup that cannot be made (a damaged database, a full disk) stops the retention too: nothing is
    deleted on a day the conversations could not be saved first.
    """
    existing = backups.copies(folder)
    newest = existing[-1] if existing else None
    due = newest is None or datetime.now(UTC) - datetime.fromtimestamp(newest.stat().st_mtime, UTC) > BACKUP_EVERY
    if backups_kept and due:
        backups.backup(database, folder, backups_kept)
    if retention_days:
        apply_retention(store, retention_days)
