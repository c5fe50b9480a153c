"""The arms side by side, as a PNG: success and quality, latency, cost per quality-adjusted output.

matplotlib is imported here only, so the app itself never loads it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from app.core.errors import HearthError
from app.core.evaluation.workflow_eval import ArmSummary


def write_workflow_plot(summaries: Sequence[ArmSummary], path: Path, title: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise HearthError("Plots need matplotlib: pip install 'hearth[eval]'.") from None

    arms = [s.arm for s in summaries]
    positions = list(range(len(arms)))
    figure, (left, middle, right) = plt.subplots(1, 3, figsize=(14, 4.4), dpi=110)
    figure.suptitle(title, fontsize=12)

    width = 0.38
    left.bar([p - width / 2 for p in positions], [s.success_rate for s in summaries], width, label="task success")
    left.bar([p + width / 2 for p in positions], [s.quality for s in summaries], width, label="parts right")
    left.set_ylim(0, 1)
    left.set_title("Quality")
    left.legend(fontsize=8)

    middle.bar(positions, [s.latency_ms / 1000 for s in summaries], color="tab:orange")
    middle.set_title("Mean end-to-end latency (s)")

    per_quality = [s.cost_per_quality if s.cost_per_quality is not None else 0.0 for s in summaries]
    bars = right.bar(positions, per_quality, color="tab:green")
    for bar, summary in zip(bars, summaries, strict=True):
        label = "no part right" if summary.cost_per_quality is None else f"${summary.cost_per_quality:.4f}"
        right.annotate(
            label, (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center", va="bottom", fontsize=8
        )
    right.set_title("Cost per quality-adjusted output (USD)")

    for axis in (left, middle, right):
        axis.set_xticks(positions, arms)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
