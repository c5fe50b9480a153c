"""Getting conversations out and back in, backups, and retention.

The JSON export holds everything of a conversation (messages with their
status, branches, route, and every attempt) and imports back losslessly as
new conversations; the Markdown export is for reading. Backups use SQLite's
online backup API, so they are consistent even while Hearth writes.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from app.core.errors import DataError
from app.core.store import Store
from app.core.user_files import read_regular

FORMAT = "hearth-export"
VERSION = 1


class _Exported(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExportedMessage(_Exported):
    id: int
    role: str
    content: str
    status: str
    created_at: str
    warning: str | None = None
    route: str | None = None
    attachments: str | None = None
    parent_id: int | None = None
    after_id: int | None = None
    attempts: list[dict[str, Any]] = []


class ExportedConversation(_Exported):
    title: str
    created_at: str
    updated_at: str
    privacy: str | None = None
    arm: str = "A"
    pinned: bool = False
    leaf_id: int | None = None
    messages: list[ExportedMessage]


class ExportDocument(_Exported):
    format: str = FORMAT
    version: int = VERSION
    exported_at: str
    conversations: list[ExportedConversation]


def export(store: Store, conversation_ids: list[int] | None = None) -> ExportDocument:
    ids = conversation_ids or [c.id for c in store.conversations()]
    conversations = []
    for conversation_id in ids:
        row = store.conversation(conversation_id)
        messages = []
        for message in store.messages(conversation_id):
            attempts = [
                {k: v for k, v in r.items() if k not in ("id", "message_id")}
                for r in store.db["attempts"].rows_where("message_id = ?", [message.id], order_by="position")
            ]
            messages.append(ExportedMessage(**message.model_dump(exclude={"conversation_id"}), attempts=attempts))
        conversations.append(ExportedConversation(**row.model_dump(exclude={"id"}), messages=messages))
    return ExportDocument(exported_at=datetime.now(UTC).isoformat(timespec="seconds"), conversations=conversations)


def to_markdown(document: ExportDocument) -> str:
    parts = []
    for conversation in document.conversations:
        parts.append(f"# {conversation.title}\n\n_{conversation.created_at[:16].replace('T', ' ')} UTC_\n")
        for message in conversation.messages:
            who = {"user": "You", "assistant": "Hearth", "system": "System"}.get(message.role, message.role)
            shown = [a for a in message.attempts if a.get("error") is None and a.get("text") == message.content]
            where = f" ({shown[-1]['tier']} · {shown[-1]['model']})" if shown else ""
            note = "" if message.status == "complete" else f" — {message.status}"
            parts.append(f"**{who}{where}{note}**\n\n{message.content}\n")
    return "\n".join(parts)


def as_text(document: ExportDocument, markdown: bool) -> str:
    """The export as Markdown to read, or as JSON that imports back losslessly."""
    return to_markdown(document) if markdown else document.model_dump_json(indent=2)


def read_document(path: Path) -> ExportDocument:
    try:
        document = ExportDocument.model_validate_json(read_regular(path))
    except (OSError, ValidationError) as exc:
        raise DataError(f"is not a Hearth JSON export ({str(exc).splitlines()[0]})", file=path) from None
    if document.format != FORMAT or document.version > VERSION:
        raise DataError(
            f"is a {document.format} v{document.version} file; this Hearth reads {FORMAT} v{VERSION}", file=path
        )
    return document


def import_document(store: Store, document: ExportDocument) -> list[int]:
    """Add the document's conversations as new ones (ids are new; everything else is kept)."""
    created = []
    with store.db.atomic():
        for conversation in document.conversations:
            table = store.db["conversations"].insert(
                {**conversation.model_dump(exclude={"messages", "leaf_id"}), "pinned": int(conversation.pinned)}
            )
            conversation_id = int(table.last_pk)
            new_ids: dict[int, int] = {}
            for message in conversation.messages:  # in id order: what a message refers to came before it
                row = message.model_dump(exclude={"id", "attempts"})
                row["parent_id"] = new_ids.get(message.parent_id) if message.parent_id else None
                row["after_id"] = new_ids.get(message.after_id) if message.after_id else None
                inserted = store.db["messages"].insert({**row, "conversation_id": conversation_id})
                new_ids[message.id] = int(inserted.last_pk)
                store.db["attempts"].insert_all(
                    {**attempt, "message_id": new_ids[message.id]} for attempt in message.attempts
                )
            leaf = new_ids.get(conversation.leaf_id) if conversation.leaf_id else None
            store.db["conversations"].update(conversation_id, {"leaf_id": leaf})
            created.append(conversation_id)
    return created


def backup(database: Path, folder: Path, keep: int) -> Path:
    """A consistent copy of the live database; only the newest ``keep`` copies are kept."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = folder / f"hearth-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S-%f')}.db"
    source = sqlite3.connect(database)
    copy = sqlite3.connect(target)
    try:
        with copy:
            source.backup(copy)
    finally:
        copy.close()
        source.close()
    for old in sorted(folder.glob("hearth-*.db"))[:-keep]:
        old.unlink()
    return target


def latest_backup(folder: Path) -> Path | None:
    copies = sorted(folder.glob("hearth-*.db"))
    return copies[-1] if copies else None


def apply_retention(store: Store, days: int, now: datetime | None = None) -> int:
    """Delete conversations untouched for ``days`` days (pinned ones stay); returns how many."""
    cutoff = ((now or datetime.now(UTC)) - timedelta(days=days)).isoformat(timespec="milliseconds")
    old = [c.id for c in store.conversations() if not c.pinned and c.updated_at < cutoff]
    for conversation_id in old:
        store.delete_conversation(conversation_id)
    return len(old)


BACKUP_EVERY = timedelta(days=1)


def daily_upkeep(store: Store, database: Path, folder: Path, backups_kept: int, retention_days: int | None) -> None:
    """What runs once a day in the background: a backup if the newest is a day old, then retention."""
    newest = latest_backup(folder)
    due = newest is None or datetime.now(UTC) - datetime.fromtimestamp(newest.stat().st_mtime, UTC) > BACKUP_EVERY
    if backups_kept and due:
        backup(database, folder, backups_kept)
    if retention_days:
        apply_retention(store, retention_days)
