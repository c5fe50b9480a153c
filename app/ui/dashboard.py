"""The dashboard: where answers came from, how often they escalated, how sure the local model was, and cost."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QDialog, QGridLayout, QPushButton, QVBoxLayout, QWidget

from app.core.config.schema import Config
from app.core.evaluation.dashboard import BINS, overview
from app.core.evaluation.ways import WAYS, describe_way
from app.core.storage.store import Store
from app.ui import inert, theme
from app.ui.charts import Chart


class Dashboard(QDialog):
    def __init__(self, store: Store, config: Config, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Dashboard")
        self.setAccessibleName("Dashboard")
        self.resize(900, 700)
        look = theme.current(QApplication.instance())  # type: ignore[arg-type]
        data = overview(store, config)
        self.data = data
        saved = (
            f"answering locally saved ${data.saved:.2f} (at {data.saved_reference}'s prices)"
            if data.saved_reference
            else "no priced cloud model is configured, so nothing was saved or spent"
        )
        self.headline = inert.rich_label(
            inert.markup(
                "<b>{answers}</b> {noun} · spent <b>${spent}</b> this month · {saved}",
                answers=data.answers,
                noun="answer" if data.answers == 1 else "answers",
                spent=f"{data.spent_this_month:.2f}",
                saved=saved,
            ),
            self,
        )
        self.headline.setWordWrap(True)
        percent = lambda v: f"{v:.0%}"  # noqa: E731
        self.by_tier = Chart("Share of answers by tier", look, fmt=percent)
        total = sum(data.by_tier.values()) or 1
        self.by_tier.set_data(list(data.by_tier), [count / total for count in data.by_tier.values()])
        self.escalation = Chart("Escalation rate per day", look, kind="line", fmt=percent)
        self.escalation.set_data([day[5:] for day, _ in data.escalation_by_day], [r for _, r in data.escalation_by_day])
        self.confidence = Chart("Local confidence (first answer)", look, fmt=lambda v: f"{v:.0f}")
        self.confidence.set_data([f"{b / BINS:.1f}" for b in range(BINS)], [float(c) for c in data.confidence_bins])
        if any(data.confidence_bins):
            self.confidence.mark_label = f"escalates below {data.threshold:.2f}"
        self.latency = Chart("Latency per tier (median, seconds)", look, fmt=lambda v: f"{v:.1f}")
        self.latency.set_data(list(data.latency_by_tier), [p50 / 1000 for p50, _ in data.latency_by_tier.values()])
        self.cost = Chart("Cost per day, last 30 days", look, kind="line", fmt=lambda v: f"${v:.3f}")
        if any(cost for _, cost in data.cost_by_day):
            self.cost.set_data([day[5:] for day, _ in data.cost_by_day], [c for _, c in data.cost_by_day])
        self.ways = Chart("Right, of the answers you rated, per way", look, fmt=percent)
        rated = {
            name: way.success_rate for name in WAYS if (way := data.ways.get(name)) and way.success_rate is not None
        }
        self.ways.set_data(list(rated), list(rated.values()))
        self.ways.setToolTip("\n".join(f"{name}: {describe_way(way)}" for name, way in data.ways.items()))
        grid = QGridLayout()
        charts = (self.by_tier, self.escalation, self.confidence, self.latency, self.cost, self.ways)
        for position, chart in enumerate(charts):
            grid.addWidget(chart, position // 2, position % 2)
        self.ways_lines = inert.plain_label(
            "\n".join(f"{name}: {describe_way(data.ways[name])}" for name in WAYS if name in data.ways), self
        )
        self.ways_lines.setObjectName("hint")
        self.ways_lines.setWordWrap(True)
        close = QPushButton("Close", self)
        close.clicked.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(self.headline)
        layout.addLayout(grid, 1)
        layout.addWidget(self.ways_lines)
        layout.addWidget(close)
