"""Routing accuracy: the task recogniser on a labelled set of requests.

Each line of the file is ``{"id", "text", "task", "image"?}``. The report has
the share recognised right, the confusion between tasks (label -> recognised
-> count) and, per task, how many of its requests were recognised as it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from app.core.evaluation.harness import load_jsonl
from app.core.routing.tasks import Recognition, Task


class RoutingItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    text: str
    task: Task
    image: bool = False
    source: str | None = None


def load_routing_items(path: Path) -> list[RoutingItem]:
    return load_jsonl(path, RoutingItem, "contains no requests")


@dataclass(frozen=True)
class RoutingReport:
    items: int
    correct: int
    confusion: dict[str, dict[str, int]]  # labelled task -> recognised task -> how many
    misses: list[dict[str, str]] = field(default_factory=list)  # id, label, recognised, why

    @property
    def accuracy(self) -> float:
        return self.correct / self.items if self.items else 0.0

    def recall(self) -> dict[str, float]:
        return {label: row.get(label, 0) / sum(row.values()) for label, row in self.confusion.items()}

    def as_dict(self) -> dict[str, object]:
        return {
            "items": self.items,
            "correct": self.correct,
            "accuracy": self.accuracy,
            "recall": self.recall(),
            "confusion": self.confusion,
            "misses": self.misses,
        }


Recogniser = Callable[[str, bool], Recognition]


def evaluate_routing(items: Sequence[RoutingItem], recogniser: Recogniser) -> RoutingReport:
    confusion: dict[str, dict[str, int]] = {}
    misses = []
    for item in items:
        found = recogniser(item.text, item.image)
        row = confusion.setdefault(item.task.value, {})
        row[found.task.value] = row.get(found.task.value, 0) + 1
        if found.task is not item.task:
            misses.append({"id": item.id, "label": item.task.value, "recognised": found.task.value, "why": found.why})
    correct = sum(row.get(label, 0) for label, row in confusion.items())
    return RoutingReport(len(items), correct, confusion, misses)


def confusion_table(report: RoutingReport) -> str:
    """The confusion matrix as text: one row per labelled task, one column per recognised task."""
    labels = [
        task.value
        for task in Task
        if task.value in report.confusion or any(task.value in row for row in report.confusion.values())
    ]
    width = max(len(label) for label in labels) + 1
    lines = ["label \\ got".ljust(width + 1) + " ".join(label[:5].rjust(5) for label in labels)]
    for label in labels:
        row = report.confusion.get(label, {})
        lines.append(label.ljust(width + 1) + " ".join(str(row.get(got, 0) or ".").rjust(5) for got in labels))
    return "\n".join(lines)
