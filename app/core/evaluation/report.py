"""Turn evaluation results into the numbers that say whether escalation is well decided."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.core.evaluation import metrics
from app.core.evaluation.harness import ItemResult

ORACLE_ASSUMPTION = (
    "The stronger tier was not run (or failed), so it is assumed to answer every question correctly: "
    "the deferral curve and CPT then measure how well confidence finds the local model's wrong answers."
)


def tier_summary(results: Sequence[ItemResult]) -> dict[str, Any]:
    answered = [r for r in results if r.error is None]
    return {
        "items": len(results),
        "answered": len(answered),
        "failed": len(results) - len(answered),
        "accuracy": sum(r.correct for r in answered) / len(answered) if answered else None,
        "median_latency_ms": sorted(r.latency_ms for r in answered)[len(answered) // 2] if answered else None,
        "errors": sorted({r.error for r in results if r.error})[:3],
    }


def build_report(results: Sequence[ItemResult], local_tier: str, strong_tier: str | None) -> dict[str, Any]:
    by_tier: dict[str, list[ItemResult]] = {}
    for result in results:
        by_tier.setdefault(result.tier, []).append(result)
    local = by_tier[local_tier]
    scored = [r for r in local if r.confidence is not None]
    confidence = [r.confidence for r in scored if r.confidence is not None]
    correct = [r.correct for r in scored]

    strong = by_tier.get(strong_tier) if strong_tier else None
    strong_ok = strong is not None and all(r.error is None for r in strong)
    if strong_ok and strong is not None:
        strong_by_id = {r.id: r.correct for r in strong}
        strong_correct = [strong_by_id[r.id] for r in scored]
        assumption = None
    else:
        strong_correct = [True] * len(scored)
        assumption = ORACLE_ASSUMPTION

    curve = metrics.deferral_curve(confidence, correct, strong_correct)
    random_area = curve.random_area
    headroom = curve.oracle_area - random_area
    return {
        "tiers": {name: tier_summary(rs) for name, rs in by_tier.items()},
        "local_tier": local_tier,
        "strong_tier": strong_tier if strong_ok else None,
        "assumption": assumption,
        "scored_items": len(scored),
        "auroc": metrics.auroc(confidence, correct),
        "ece": metrics.expected_calibration_error(confidence, correct) if scored else None,
        "reliability": metrics.reliability(confidence, correct),
        "deferral": {
            "area": curve.area,
            "random_area": random_area,
            "oracle_area": curve.oracle_area,
            "gain_over_random": curve.area - random_area,
            "relative_gain_over_random": (curve.area - random_area) / random_area if random_area else None,
            "share_of_oracle_gain": (curve.area - random_area) / headroom if headroom > 0 else None,
            "cpt_50": metrics.call_performance_threshold(curve, 0.5),
            "cpt_80": metrics.call_performance_threshold(curve, 0.8),
            "curve": {
                "rates": curve.rates,
                "accuracy": curve.accuracy,
                "random": curve.random_accuracy,
                "oracle": curve.oracle_accuracy,
            },
        },
    }
