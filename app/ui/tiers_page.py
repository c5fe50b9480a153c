"""The tiers as a list you can see and reorder: drag tiers, or models between tiers; Move up / down does the same.

Each row shows where the model runs, its price, its key and what the privacy policy does with
it (allowed / asks first / never). A model in no tier is listed apart, with a warning. Every
change is saved through app/core/services/operations.reorder_tiers, checked like a start-up.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.config.load import load_config
from app.core.config.schema import Config
from app.core.errors import HearthError
from app.core.privacy.policy import PRIVACY_LABELS
from app.core.services import operations
from app.core.services.overview import tier_rows, unused_models, unused_warning
from app.core.session import Session
from app.ui import inert

KIND = Qt.ItemDataRole.UserRole  # "tier", "model" or "unused"
NAME = Qt.ItemDataRole.UserRole + 1
COLUMNS = ["Tier / model", "Runs", "Price", "Key", "Privacy"]
UNUSED = "Not in any tier"


class _TierTree(QTreeWidget):
    dropped = Signal()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt naming)
        super().dropEvent(event)
        self.dropped.emit()


class TiersPage(QWidget):
    changed = Signal()

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.privacy = inert.plain_label("", self)
        self.tree = _TierTree(self)
        self.tree.setAccessibleName("Tiers")
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.dropped.connect(self.save_order)
        self.warnings = inert.plain_label("", self)
        self.warnings.setObjectName("editBanner")
        self.warnings.setWordWrap(True)
        self.problem = inert.plain_label("", self)
        self.problem.setWordWrap(True)
        up = QPushButton("Move up", self)
        up.clicked.connect(lambda: self.move(-1))
        down = QPushButton("Move down", self)
        down.clicked.connect(lambda: self.move(1))
        buttons = QHBoxLayout()
        buttons.addWidget(up)
        buttons.addWidget(down)
        buttons.addStretch(1)
        hint = inert.plain_label(
            "Tiers are asked from the top: an unsure answer climbs to the next one the privacy setting allows. "
            "Drag a tier to reorder it, or a model into another tier.",
            self,
        )
        hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(hint)
        layout.addWidget(self.privacy)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.warnings)
        layout.addWidget(self.problem)
        self.reload()

    def reload(self) -> None:
        self.show_config(load_config(self.session.paths))

    def show_config(self, config: Config) -> None:
        self.tree.clear()
        self.privacy.setText(f"Privacy setting: {PRIVACY_LABELS[config.settings.privacy]}")
        groups: dict[str | None, QTreeWidgetItem] = {}
        for tier in config.tiers:
            groups[tier.name] = self._group(tier.name, "tier")
        for row in tier_rows(config):
            parent = groups.get(row.tier) or groups.setdefault(None, self._group(UNUSED, "unused"))
            item = QTreeWidgetItem(parent, [row.model_id, row.location.value, row.price, row.key, row.effect])
            item.setData(0, KIND, "model")
            item.setData(0, NAME, row.model_id)
            item.setToolTip(0, inert.tooltip(f"{row.model_id}: {row.model}"))
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsDropEnabled)
        self.tree.expandAll()
        for column in range(len(COLUMNS)):
            self.tree.resizeColumnToContents(column)
        unused = unused_models(config)
        self.warnings.setText("\n".join(f"Warning: {unused_warning(m)}" for m in unused))
        self.warnings.setVisible(bool(unused))

    def _group(self, name: str, kind: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem(self.tree, [name if kind == "unused" else f"Tier: {name}"])
        item.setData(0, KIND, kind)
        item.setData(0, NAME, name)
        font = item.font(0)
        font.setBold(True)
        item.setFont(0, font)
        item.setFirstColumnSpanned(True)
        if kind == "unused":
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsDragEnabled)
        return item

    def order(self) -> list[tuple[str, list[str]]] | None:
        """The tiers as shown (empty ones left out), or None when a drop broke the shape (a tier in a tier)."""
        order: list[tuple[str, list[str]]] = []
        for index in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(index)
            kind = top.data(0, KIND)
            children = [top.child(i) for i in range(top.childCount())]
            if kind == "model" or any(child.data(0, KIND) != "model" for child in children):
                return None
            if kind == "tier" and children:
                order.append((top.data(0, NAME), [child.data(0, NAME) for child in children]))
        return order

    def save_order(self) -> None:
        order = self.order()
        if order is None:
            self.problem.setText("Tiers hold models, and models belong in tiers: that move was undone.")
            self.reload()
            return
        try:
            config = operations.reorder_tiers(self.session.paths, order)
        except HearthError as exc:
            self.problem.setText(f"Not saved: {exc}")
            self.reload()
            return
        self.problem.setText("Saved.")
        self.show_config(config)
        self.changed.emit()

    def move(self, step: int) -> None:
        """The selected tier (or model, within its tier) one place up or down, then saved."""
        item = self.tree.currentItem()
        if item is None:
            return
        parent = item.parent()
        siblings = parent.childCount() if parent else self.tree.topLevelItemCount()
        index = parent.indexOfChild(item) if parent else self.tree.indexOfTopLevelItem(item)
        target = index + step
        if not 0 <= target < siblings or item.data(0, KIND) == "unused":
            return
        if parent:
            parent.insertChild(target, parent.takeChild(index))
        else:
            self.tree.insertTopLevelItem(target, self.tree.takeTopLevelItem(index))
        name = item.data(0, NAME)
        self.save_order()
        self._select(name)

    def _select(self, name: str) -> None:
        found = self.tree.findItems(name, Qt.MatchFlag.MatchExactly | Qt.MatchFlag.MatchRecursive)
        found = found or self.tree.findItems(f"Tier: {name}", Qt.MatchFlag.MatchExactly)
        if found:
            self.tree.setCurrentItem(found[0])
