"""Small charts painted with QPainter: bars and a line, enough for the dashboard.

Qt's own charts module ships in PySide6-Addons (about 150 MB more in every
installer); these few shapes do not justify it.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QWidget

from app.ui.inert import tooltip
from app.ui.theme import Theme

Format = Callable[[float], str]


class Chart(QWidget):
    """A titled chart of labelled values: ``bars`` or a ``line``; an optional marker line at ``mark``."""

    def __init__(
        self,
        title: str,
        theme: Theme,
        kind: str = "bars",
        fmt: Format = lambda v: f"{v:g}",
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.title, self.theme, self.kind, self.fmt = title, theme, kind, fmt
        self.labels: list[str] = []
        self.values: list[float] = []
        self.mark: float | None = None
        self.mark_label = ""
        self.setMinimumSize(300, 190)
        self.setAccessibleName(title)

    def set_data(self, labels: list[str], values: list[float]) -> None:
        self.labels, self.values = labels, values
        described = ", ".join(f"{label}: {self.fmt(value)}" for label, value in zip(labels, values, strict=True))
        self.setAccessibleDescription(described or "no data yet")
        self.setToolTip(tooltip(described))
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt naming)
        return QSize(380, 220)

    def labels_bars(self) -> bool:
        """Whether each bar has its value written over it (a few bars; many would overlap)."""
        return self.kind == "bars" and 0 < len(self.values) <= 12

    def plot_area(self, line: int) -> QRectF:
        """Where the values are drawn, below the title (and below the value over the tallest bar)."""
        top = line + 10 + (line + 2 if self.labels_bars() else 0)
        return QRectF(8, top, self.width() - 16, self.height() - top - line - 10)

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 (Qt naming)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        theme = self.theme
        painter.setPen(QColor(theme.text))
        metrics = painter.fontMetrics()
        line = metrics.height()
        painter.drawText(QRectF(0, 0, self.width(), line + 4), Qt.AlignmentFlag.AlignLeft, self.title)
        area = self.plot_area(line)
        if not self.values:
            painter.setPen(QColor(theme.muted))
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter, "No data yet")
            return
        top = max(max(self.values), self.mark or 0.0) or 1.0
        painter.setPen(QPen(QColor(theme.border), 1))
        painter.drawLine(area.bottomLeft(), area.bottomRight())
        count = len(self.values)
        step = area.width() / count
        labelled = self.labels_bars()

        def y(value: float) -> float:
            return area.bottom() - area.height() * value / top

        if self.kind == "bars":
            painter.setPen(Qt.PenStyle.NoPen)
            for index, value in enumerate(self.values):
                painter.setBrush(QColor(theme.accent if index % 2 else theme.bar_fill))
                bar = QRectF(area.left() + index * step + step * 0.15, y(value), step * 0.7, area.bottom() - y(value))
                painter.drawRoundedRect(bar, 2, 2)
                if labelled:
                    painter.setPen(QColor(theme.text))
                    painter.drawText(
                        QRectF(bar.left() - 10, bar.top() - line - 2, bar.width() + 20, line),
                        Qt.AlignmentFlag.AlignCenter,
                        self.fmt(value),
                    )
                    painter.setPen(Qt.PenStyle.NoPen)
        else:
            points = QPolygonF([QPointF(area.left() + (i + 0.5) * step, y(v)) for i, v in enumerate(self.values)])
            painter.setPen(QPen(QColor(theme.accent), 2))
            painter.drawPolyline(points)
            painter.setBrush(QColor(theme.accent))
            for point in points:
                painter.drawEllipse(point, 2.5, 2.5)
        if self.mark is not None:
            painter.setPen(QPen(QColor(theme.escalated), 1, Qt.PenStyle.DashLine))
            painter.drawLine(QPointF(area.left(), y(self.mark)), QPointF(area.right(), y(self.mark)))
        painter.setPen(QColor(theme.muted))
        shown = range(count) if count <= 12 else (0, count // 2, count - 1)
        for index in shown:
            painter.drawText(
                QRectF(area.left() + index * step - 20, area.bottom() + 2, step + 40, line),
                Qt.AlignmentFlag.AlignHCenter,
                self.labels[index],
            )
        painter.drawText(
            QRectF(area.left(), area.top() - 2, area.width(), line), Qt.AlignmentFlag.AlignRight, self.mark_label
        )
