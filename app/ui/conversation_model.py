"""The conversation on show as a Qt item model over the store.

Only the newest page of the branch is read when a conversation opens; older
pages are read when the user scrolls to the top. A 10,000-message
conversation therefore opens as fast as a short one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

from app.core.conversation.saved import StoredMessage, stored_message
from app.core.conversation.teamwork.steps import plan_escalated
from app.core.documents.sources import NOTHING_CITED, Source, sources_from
from app.core.storage.rows import AttemptRow, MessageRow, escalated_on_its_own, shown_attempt
from app.core.storage.store import Store
from app.ui.badge import BadgeInfo, describe
from app.ui.inert import tooltip

PAGE = 40  # enough to fill a tall window; each row is rendered Markdown

Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class MessageItem:
    role: str
    text: str
    message_id: int | None = None
    badge: BadgeInfo | None = None
    note: str = ""
    streaming: bool = False
    version: int = 1  # which version of this message is on show (edits, regenerations)
    versions: int = 1
    resting: tuple[str, ...] = ()  # models this answer tried that rest after repeated failures
    sources: tuple[Source, ...] = ()  # the document chunks the answer drew on, as stored with it


ITEM_ROLE = Qt.ItemDataRole.UserRole + 1


class ConversationModel(QAbstractListModel):
    def __init__(self) -> None:
        super().__init__()
        self._items: list[MessageItem] = []
        self._first_loaded: MessageRow | None = None  # the oldest message read so far
        self.conversation_id: int | None = None

    # Reading
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 (Qt naming)
        return 0 if parent.isValid() else len(self._items)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        item = self._items[index.row()]
        if role == ITEM_ROLE:
            return item
        if role == Qt.ItemDataRole.DisplayRole:
            return item.text
        if role == Qt.ItemDataRole.AccessibleTextRole:
            who = "You" if item.role == "user" else "Hearth"
            details = f" ({describe(item.badge)})" if item.badge else ""
            return f"{who}: {item.text}{details}"
        if role == Qt.ItemDataRole.ToolTipRole and item.badge is not None:
            return tooltip(item.badge.why())
        return None

    def item(self, row: int) -> MessageItem:
        return self._items[row]

    def items(self) -> list[MessageItem]:
        return list(self._items)

    def row_of(self, message_id: int) -> int | None:
        return next((row for row, item in enumerate(self._items) if item.message_id == message_id), None)

    # Loading from the store
    def clear(self) -> None:
        self.beginResetModel()
        self._items = []
        self._first_loaded = None
        self.conversation_id = None
        self.endResetModel()

    def load(self, store: Store, conversation_id: int) -> None:
        """The newest page of the branch on show."""
        rows = store.thread(conversation_id, limit=PAGE)
        self.beginResetModel()
        self.conversation_id = conversation_id
        self._items = _items(store, rows)
        self._first_loaded = rows[0] if rows else None
        self.endResetModel()

    def can_load_earlier(self) -> bool:
        return self._first_loaded is not None and self._first_loaded.after_id is not None

    def load_earlier(self, store: Store) -> int:
        """Read the page before the oldest message on show; returns how many rows were added."""
        if self.conversation_id is None or self._first_loaded is None or self._first_loaded.after_id is None:
            return 0
        rows = store.thread(self.conversation_id, limit=PAGE, through=self._first_loaded.after_id)
        if not rows:
            return 0
        self.beginInsertRows(QModelIndex(), 0, len(rows) - 1)
        self._items[0:0] = _items(store, rows)
        self._first_loaded = rows[0]
        self.endInsertRows()
        return len(rows)

    def load_through(self, store: Store, message_id: int) -> int | None:
        """The row of ``message_id``, reading earlier pages until it is on show; None if not on this branch."""
        while (row := self.row_of(message_id)) is None and self.load_earlier(store):
            pass
        return row

    # Changing what is on show
    def append(self, item: MessageItem) -> int:
        row = len(self._items)
        self.beginInsertRows(QModelIndex(), row, row)
        self._items.append(item)
        self.endInsertRows()
        return row

    def update(self, row: int, **changes: Any) -> None:
        self._items[row] = replace(self._items[row], **changes)
        index = self.index(row)
        self.dataChanged.emit(index, index)

    def reload_row(self, store: Store, row: int) -> None:
        """Read one message again (after a turn that failed midway: what of it was stored)."""
        message_id = self._items[row].message_id
        if message_id is not None:
            self.show_stored(row, stored_message(store, message_id))

    def show_stored(self, row: int, stored: StoredMessage) -> None:
        """Draw ``row`` as it is stored (after its answer finished: badge, cost, versions, note)."""
        self._items[row] = item_of(stored)
        index = self.index(row)
        self.dataChanged.emit(index, index)

    def truncate(self, row: int) -> None:
        """Drop ``row`` and everything after it (an edited message starts a new branch there)."""
        if row >= len(self._items):
            return
        self.beginRemoveRows(QModelIndex(), row, len(self._items) - 1)
        del self._items[row:]
        self.endRemoveRows()


def _items(store: Store, rows: list[MessageRow]) -> list[MessageItem]:
    return [item_of(stored_message(store, message.id)) for message in rows if message.role in ("user", "assistant")]


def item_of(stored: StoredMessage) -> MessageItem:
    """How one stored message is drawn: its text, badge, note, version and sources."""
    message, versions = stored.message, stored.versions
    version = next(number for number, row in enumerate(versions, 1) if row.id == message.id)
    badge = note = None
    if message.role == "assistant":
        attempts = stored.attempts
        badge = badge_from_rows(attempts, message)
        errors = [a.error for a in attempts if a.error]
        if message.status == "incomplete":
            note = "Stopped before it finished; the text so far is kept."
        elif errors:
            note = errors[-1]
        elif badge is not None and badge.escalated:
            note = " ".join(a.reason for a in attempts if a.reason)
        elif message.sources is not None and not json.loads(message.sources):
            note = NOTHING_CITED
    return MessageItem(
        role=message.role,
        text=message.content,
        message_id=message.id,
        badge=badge,
        note=note or "",
        version=version,
        versions=len(versions),
        sources=tuple(sources_from(json.loads(message.sources) if message.sources else None)),
    )


def badge_from_rows(attempts: list[AttemptRow], message: MessageRow) -> BadgeInfo | None:
    final = shown_attempt(attempts, message.content)
    if final is None:
        return None
    return BadgeInfo(
        tier=final.tier,
        model=final.model,
        confidence=final.confidence,
        escalated=escalated_on_its_own(attempts, final) if (planned := plan_escalated(attempts)) is None else planned,
        reason=" ".join(a.reason for a in attempts if a.reason),  # each tier's step: why it stayed or went on
        latency_ms=final.latency_ms,
        tokens=final.tokens_out,
        cost=final.cost,
        status=message.status,
        warning=message.warning,
    )
