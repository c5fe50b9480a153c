"""The capability map as a grid: tasks down, configured models across; a tick says the model is good at it.

Ticking a box edits that model's ``good_at`` (saved with the other settings);
the line under the grid names the tasks no model is good at. The rules (what
the tags are, what a gap is) live in app/core/conversation/teamwork/.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from app.core.config.capabilities import Capability
from app.core.config.schema import Config
from app.core.routing.capability_map import CapabilityGrid, grid
from app.ui import inert


class CapabilityGridEditor(QWidget):
    def __init__(self, config: Config, parent: QWidget | None = None):
        super().__init__(parent)
        self.drawn = grid(config)
        layout = QVBoxLayout(self)
        hint = inert.plain_label(
            "What each model is good at. A request starts at the cheapest model that may answer it and is good at "
            "its task; privacy, consent and budgets still decide where it may go.",
            self,
        )
        hint.setWordWrap(True)
        self.table = QTableWidget(len(self.drawn.capabilities), len(self.drawn.models), self)
        self.table.setObjectName("capabilityGrid")
        self.table.setAccessibleName("Capability map")
        self.table.setHorizontalHeaderLabels([inert.one_line(m, 40) for m in self.drawn.models])
        self.table.setVerticalHeaderLabels([c.value for c in self.drawn.capabilities])
        for row, capability in enumerate(self.drawn.capabilities):
            for column, model_id in enumerate(self.drawn.models):
                cell = QTableWidgetItem()
                cell.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled)
                ticked = self.drawn.cell(capability, model_id)
                cell.setCheckState(Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)
                self.table.setItem(row, column, cell)
        self.table.resizeColumnsToContents()
        self.gaps = inert.plain_label("", self)
        self.gaps.setObjectName("capabilityGaps")
        self.gaps.setWordWrap(True)
        layout.addWidget(hint)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.gaps)
        self.table.itemChanged.connect(lambda _: self._show_gaps())
        self._show_gaps()

    def good_at(self) -> dict[str, list[str]]:
        """Each model's ticks, as its ``good_at`` list."""
        return {
            model_id: [
                capability.value
                for row, capability in enumerate(self.drawn.capabilities)
                if self.table.item(row, column).checkState() == Qt.CheckState.Checked
            ]
            for column, model_id in enumerate(self.drawn.models)
        }

    def changed(self) -> dict[str, list[str]]:
        """Only the models whose ticks differ from the configuration (the others' text stays as it was)."""
        return {
            model_id: tags
            for model_id, tags in self.good_at().items()
            if set(tags) != {c.value for c in self.drawn.good[model_id]}
        }

    def _show_gaps(self) -> None:
        ticks = {model_id: {Capability(tag) for tag in tags} for model_id, tags in self.good_at().items()}
        self.gaps.setText(CapabilityGrid(self.drawn.capabilities, self.drawn.models, ticks).describe_gaps())
