"""Turn evaluation results into the numbers that say whether escalation is well decided."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.core.confidence import metrics
from app.core.evaluation.harness import ItemResult
from app.core.evaluation.plain_baseline import PLAIN_TIER

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


def quality(confidence: Sequence[float], correct: Sequence[bool], strong_correct: Sequence[bool]) -> dict[str, Any]:
    """How well ``confidence`` tells right from wrong, and what deferring by it gains."""
    curve = metrics.deferral_curve(confidence, correct, strong_correct)
    random_area = curve.random_area
    headroom = curve.oracle_area - random_area
    return {
        "scored_items": len(confidence),
        "auroc": metrics.auroc(confidence, correct),
        "ece": metrics.expected_calibration_error(confidence, correct) if confidence else None,
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


def tier_quality(results: Sequence[ItemResult], strong: dict[str, bool] | None) -> dict[str, Any]:
    """``quality`` of one tier's confidence, deferring to ``strong`` (id -> right), or to an always-right tier."""
    scored = [r for r in results if r.confidence is not None and r.error is None]
    confidence = [r.confidence for r in scored if r.confidence is not None]
    correct = [r.correct for r in scored]
    strong_correct = [strong.get(r.id, True) for r in scored] if strong else [True] * len(scored)
    if not scored:  # the tier failed throughout, or reports no token probabilities
        return {"scored_items": 0, "auroc": None, "ece": None, "reliability": [], "deferral": None}
    return quality(confidence, correct, strong_correct)


def build_report(results: Sequence[ItemResult], local_tier: str, strong_tier: str | None) -> dict[str, Any]:
    """The local tier's numbers at the top level; every tier's (the plain model's too) under ``per_tier``.

    Each tier defers to ``strong_tier`` where that tier answered everything, else to an
    always-right tier (stated in ``assumption``).
    """
    by_tier: dict[str, list[ItemResult]] = {}
    for result in results:
        by_tier.setdefault(result.tier, []).append(result)
    strong = by_tier.get(strong_tier) if strong_tier else None
    strong_ok = strong is not None and all(r.error is None for r in strong)
    strong_by_id = {r.id: r.correct for r in strong} if strong_ok and strong is not None else None
    per_tier = {
        name: {**tier_summary(rs), **tier_quality(rs, strong_by_id if name != strong_tier else None)}
        for name, rs in by_tier.items()
    }
    local = per_tier[local_tier]
    plain = per_tier.get(PLAIN_TIER)
    return {
        "tiers": {name: tier_summary(rs) for name, rs in by_tier.items()},
        "per_tier": per_tier,
        "local_tier": local_tier,
        "strong_tier": strong_tier if strong_ok else None,
        "assumption": None if strong_ok else ORACLE_ASSUMPTION,
        "baseline": None
        if plain is None
        else {
            "tier": PLAIN_TIER,
            "what": "the same model through llama-cpp-python's chat API, greedy, no system prompt; "
            "its confidence is the mean token log-probability",
            "accuracy": plain["accuracy"],
            "auroc": plain["auroc"],
            "local_accuracy_minus_plain": None
            if plain["accuracy"] is None or local["accuracy"] is None
            else local["accuracy"] - plain["accuracy"],
        },
        **{key: local[key] for key in ("scored_items", "auroc", "ece", "reliability", "deferral")},
    }
