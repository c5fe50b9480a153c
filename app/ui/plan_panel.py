"""The plan as it runs: one row per step (planner, each part, synthesis) with its model, tier, confidence,
time and cost; a row opens to show what the part asks and the text it produced.

A thin view over the plan run's events (app/core/conversation/teamwork/events.py). Every
text in it came from a model or the user, so it is shown as plain text.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QSizePolicy,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.conversation.chat import UserMessageSaved
from app.core.conversation.teamwork.events import PartDelta, PartDone, PartStarted, PlanReady
from app.core.conversation.teamwork.plan_run import PLANNER
from app.ui import inert

COLUMNS = ["Step", "Task", "Model", "Tier", "Confidence", "Time", "Cost", "State"]
STATE = COLUMNS.index("State")
PREVIEW = 2000  # characters of a step's text kept in its row


class PlanPanel(QWidget):
    rerun_requested = Signal(int, int)  # the answer's message id, the part's number
    edit_requested = Signal(int, int, str)  # the same, and what the part is to ask from now on

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("planPanel")
        column = QVBoxLayout(self)
        column.setContentsMargins(12, 4, 12, 0)
        header = QHBoxLayout()
        self.title = inert.plain_label("Plan", self)
        self.title.setObjectName("planTitle")
        self.title.setWordWrap(True)  # a long note (why the rules cut the request) must not widen the window
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.hide_button = QToolButton(self)
        self.hide_button.setText("Hide plan")
        self.hide_button.setAccessibleName("Hide the plan")
        self.rerun_button = QToolButton(self)
        self.rerun_button.setText("Re-run part")
        self.rerun_button.setToolTip("Run the selected part again and join the parts anew; the others are kept")
        self.rerun_button.setAccessibleName("Re-run the selected part")
        self.rerun_button.setEnabled(False)
        self.edit_button = QToolButton(self)
        self.edit_button.setText("Edit part…")
        self.edit_button.setToolTip("Change what the selected part asks, run it again and join the parts anew")
        self.edit_button.setAccessibleName("Edit the selected part")
        self.edit_button.setEnabled(False)
        header.addWidget(self.title, 1)
        header.addWidget(self.edit_button)
        header.addWidget(self.rerun_button)
        header.addWidget(self.hide_button)
        column.addLayout(header)
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("planTree")
        self.tree.setAccessibleName("The plan's steps")
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setRootIsDecorated(True)
        self.tree.setUniformRowHeights(False)
        self.tree.setMaximumHeight(230)
        self.tree.header().setStretchLastSection(True)
        for number, width in enumerate((290, 90, 130, 95, 80, 60, 70)):
            self.tree.setColumnWidth(number, width)
        column.addWidget(self.tree)
        self.rows: dict[int, QTreeWidgetItem] = {}
        self.texts: dict[int, QTreeWidgetItem] = {}
        self.asks: dict[int, str] = {}  # what each part asks
        self.written: dict[int, str] = {}  # what each step wrote so far
        self.parts = 0
        self.answer_id: int | None = None  # the plan answer drawn
        self.running = False
        self.hide_button.clicked.connect(self.hide)
        self.rerun_button.clicked.connect(self._rerun)
        self.edit_button.clicked.connect(self._edit)
        self.tree.itemSelectionChanged.connect(self._offer_rerun)
        self.hide()

    def reset(self) -> None:
        self.tree.clear()
        self.rows.clear()
        self.texts.clear()
        self.asks.clear()
        self.written.clear()
        self.parts = 0
        self.answer_id = None
        self.hide()

    def set_running(self, running: bool) -> None:
        self.running = running
        self._offer_rerun()

    def selected_part(self) -> int | None:
        chosen = [number for number, row in self.rows.items() if row.isSelected()]
        return chosen[0] if chosen and 0 < chosen[0] <= self.parts else None

    def _offer_rerun(self) -> None:
        offered = not self.running and self.answer_id is not None and self.selected_part() is not None
        self.rerun_button.setEnabled(offered)
        self.edit_button.setEnabled(offered)

    def _rerun(self) -> None:
        number = self.selected_part()
        if number is not None and self.answer_id is not None:
            self.rerun_requested.emit(self.answer_id, number)

    def _edit(self) -> None:
        number = self.selected_part()
        if number is None or self.answer_id is None:
            return
        asks, ok = QInputDialog.getMultiLineText(
            self, f"Edit part {number}", "What this part asks (it then runs again):", self.asks.get(number, "")
        )
        if ok and asks.strip() and asks.strip() != self.asks.get(number, "").strip():
            self.edit_requested.emit(self.answer_id, number, asks)

    def take(self, event: object) -> None:
        """Draw one event of a plan run (others are not the panel's)."""
        if isinstance(event, UserMessageSaved):
            self.answer_id = event.answer_id
        elif isinstance(event, PlanReady):
            self._plan(event)
        elif isinstance(event, PartStarted):
            row = self._row(event.number)
            row.setText(COLUMNS.index("Model"), inert.one_line(event.model_id))
            row.setText(COLUMNS.index("Tier"), inert.one_line(event.tier))
            row.setText(STATE, "running…")
            self.written[event.number] = ""
        elif isinstance(event, PartDelta):
            self._row(event.number)
            self.written[event.number] = (self.written.get(event.number, "") + event.text)[:PREVIEW]
            self._show_text(event.number)
        elif isinstance(event, PartDone):
            self._done(event)

    def _plan(self, event: PlanReady) -> None:
        plan = event.plan
        self.parts = len(plan.parts)
        made_by = {"planner": "the planner model", "rules": "the rules", "stored": "you", "edited": "you, edited"}.get(
            plan.source, ""
        )
        self.title.setText(f"Plan by {made_by}: {len(plan.parts)} parts" + (f" — {plan.note}" if plan.note else ""))
        for part in plan.parts:
            row = self._row(part.number)
            after = f" (after {', '.join(map(str, part.depends_on))})" if part.depends_on else ""
            row.setText(0, inert.one_line(f"{part.number}. {part.text}{after}", 120))
            row.setText(1, part.task.value)
            row.setText(STATE, "waiting")
            self.asks[part.number] = part.text
            self._show_text(part.number)
        if len(plan.parts) > 1:
            self._row(len(plan.parts) + 1).setText(STATE, "waiting")
        self.show()

    def _row(self, number: int) -> QTreeWidgetItem:
        if number not in self.rows:
            name = "Planner" if number == PLANNER else "Synthesis" if self.parts and number > self.parts else ""
            row = QTreeWidgetItem(self.tree, [name or f"Part {number}"] + [""] * (len(COLUMNS) - 1))
            text = QTreeWidgetItem(row, [""])
            text.setFirstColumnSpanned(True)
            text.setFlags(text.flags() & ~Qt.ItemFlag.ItemIsSelectable)
            self.rows[number], self.texts[number] = row, text
            self.show()
        return self.rows[number]

    def _show_text(self, number: int) -> None:
        lines = [f"Asks: {self.asks[number]}"] if number in self.asks else []
        written = self.written.get(number, "").strip()
        if written:
            lines.append(f"Wrote: {written}")
        self.texts[number].setText(0, "\n".join(lines) or "(nothing yet)")

    def _done(self, event: PartDone) -> None:
        row = self._row(event.number)
        answer = event.answer
        if answer is not None:
            confidence = "n/a" if answer.confidence is None else f"{answer.confidence:.2f}"
            row.setText(COLUMNS.index("Confidence"), confidence)
            row.setText(COLUMNS.index("Time"), f"{answer.latency_ms / 1000:.1f} s")
            row.setText(COLUMNS.index("Cost"), f"${sum(a.cost for a in answer.attempts):.4f}")
            if answer.escalated:
                row.setText(COLUMNS.index("Tier"), f"{inert.one_line(answer.tier)} (escalated)")
        row.setText(STATE, "done" if event.ok else f"NOT DONE: {inert.one_line(event.problem or '')}")
        if not event.ok:
            row.setForeground(STATE, Qt.GlobalColor.red)
