"""A PNG a person can read: the deferral curve, the reliability diagram and the confidence histogram.

matplotlib is imported here only, so the app itself never loads it.
"""

from __future__ import annotations

from pathlib import Path

from app.core.errors import HearthError
from app.core.evaluation.report import EvalReport


def write_plot(report: EvalReport, confidences: list[tuple[float, bool]], path: Path, title: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise HearthError("Plots need matplotlib: pip install 'hearth[eval]'.") from None

    scored = report.local
    deferral = scored.deferral
    if deferral is None:
        raise HearthError(f"Nothing to draw: the {report.local_tier} tier scored no answer.")
    curve = deferral.curve
    figure, (left, middle, right) = plt.subplots(1, 3, figsize=(15, 4.6), dpi=110)
    figure.suptitle(title, fontsize=12)

    left.plot(curve.rates, curve.accuracy, label=f"by confidence (area {deferral.area:.3f})", lw=2)
    left.plot(curve.rates, curve.random, "--", label=f"random (area {deferral.random_area:.3f})")
    left.plot(curve.rates, curve.oracle, ":", label=f"oracle (area {deferral.oracle_area:.3f})")
    if deferral.cpt_80 is not None:
        left.axvline(deferral.cpt_80, color="grey", lw=0.8)
        left.annotate(
            f"CPT(80%) = {deferral.cpt_80:.0%}",
            (deferral.cpt_80, 1.0),
            xycoords=("data", "axes fraction"),
            textcoords="offset points",
            xytext=(4, -12),
            fontsize=8,
        )
    left.set_xlabel("share of questions escalated (least confident first)")
    left.set_ylabel("overall accuracy")
    left.set_title("Deferral curve")
    left.legend(fontsize=8, loc="lower right")
    left.grid(alpha=0.3)

    bins = scored.reliability
    middle.plot([0, 1], [0, 1], ":", color="grey", label="perfect calibration")
    middle.plot(
        [b["confidence"] for b in bins],
        [b["accuracy"] for b in bins],
        "o-",
        label=f"ECE {scored.ece:.3f}" if scored.ece is not None else "",
    )
    middle.set_xlim(0, 1)
    middle.set_ylim(0, 1)
    middle.set_xlabel("confidence")
    middle.set_ylabel("accuracy")
    auroc = scored.auroc
    middle.set_title(f"Reliability (AUROC {auroc:.3f})" if auroc is not None else "Reliability")
    middle.legend(fontsize=8, loc="upper left")
    middle.grid(alpha=0.3)

    right.hist([c for c, ok in confidences if ok], bins=20, range=(0, 1), alpha=0.6, label="right answers")
    right.hist([c for c, ok in confidences if not ok], bins=20, range=(0, 1), alpha=0.6, label="wrong answers")
    right.set_xlabel("confidence")
    right.set_ylabel("answers")
    right.set_title("Confidence of right and wrong answers")
    right.legend(fontsize=8)

    if report.assumption:
        figure.text(
            0.01,
            0.01,
            "Assumption: the stronger tier was not run; it is taken to be always right.",
            fontsize=8,
            color="dimgrey",
        )
    figure.tight_layout(rect=(0, 0.03, 1, 0.95))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
