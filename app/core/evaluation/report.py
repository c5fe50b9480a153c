"""Turn evaluation results into the numbers that say whether escalation is well decided: ``hearth eval``'s report.

``EvalReport.as_json`` is the shape of ``report.json``: the local tier's numbers at the top level, every
tier's (the plain model's too) under ``per_tier``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from app.core.confidence import metrics
from app.core.evaluation.harness import ItemResult
from app.core.evaluation.plain_baseline import PLAIN_TIER

ORACLE_ASSUMPTION = (
    "The stronger tier was not run (or failed), so it is assumed to answer every question correctly: "
    "the deferral curve and CPT then measure how well confidence finds the local model's wrong answers."
)
BASELINE_WHAT = (
    "the same model through llama-cpp-python's chat API, greedy, no system prompt; "
    "its confidence is the mean token log-probability"
)


@dataclass(frozen=True)
class Curve:
    rates: list[float]  # share of questions escalated, least confident first
    accuracy: list[float]
    random: list[float]
    oracle: list[float]


@dataclass(frozen=True)
class Deferral:
    area: float
    random_area: float
    oracle_area: float
    gain_over_random: float
    relative_gain_over_random: float | None
    share_of_oracle_gain: float | None
    cpt_50: float | None  # the escalation rate that recovers half the gap to the strong tier
    cpt_80: float | None
    curve: Curve


@dataclass(frozen=True)
class Quality:
    """How well a tier's confidence tells right from wrong, and what deferring by it gains."""

    scored_items: int
    auroc: float | None
    ece: float | None
    reliability: list[dict[str, float]]
    deferral: Deferral | None  # None: nothing was scored


@dataclass(frozen=True)
class TierSummary:
    items: int
    answered: int
    failed: int
    accuracy: float | None
    median_latency_ms: float | None
    errors: list[str]  # the first three kinds of failure


@dataclass(frozen=True)
class TierReport:
    summary: TierSummary
    quality: Quality

    def as_json(self) -> dict[str, Any]:
        return asdict(self.summary) | asdict(self.quality)


@dataclass(frozen=True)
class Baseline:
    tier: str
    what: str
    accuracy: float | None
    auroc: float | None
    local_accuracy_minus_plain: float | None


@dataclass(frozen=True)
class EvalReport:
    per_tier: dict[str, TierReport]
    local_tier: str
    strong_tier: str | None  # None: it did not answer everything, so an always-right tier was assumed
    assumption: str | None
    baseline: Baseline | None

    @property
    def local(self) -> Quality:
        return self.per_tier[self.local_tier].quality

    def as_json(self) -> dict[str, Any]:
        return {
            "tiers": {name: asdict(tier.summary) for name, tier in self.per_tier.items()},
            "per_tier": {name: tier.as_json() for name, tier in self.per_tier.items()},
            "local_tier": self.local_tier,
            "strong_tier": self.strong_tier,
            "assumption": self.assumption,
            "baseline": None if self.baseline is None else asdict(self.baseline),
            **asdict(self.local),
        }


def tier_summary(results: Sequence[ItemResult]) -> TierSummary:
    answered = [r for r in results if r.error is None]
    return TierSummary(
        items=len(results),
        answered=len(answered),
        failed=len(results) - len(answered),
        accuracy=sum(r.correct for r in answered) / len(answered) if answered else None,
        median_latency_ms=sorted(r.latency_ms for r in answered)[len(answered) // 2] if answered else None,
        errors=sorted({r.error for r in results if r.error})[:3],
    )


def quality(confidence: Sequence[float], correct: Sequence[bool], strong_correct: Sequence[bool]) -> Quality:
    """How well ``confidence`` tells right from wrong, and what deferring by it gains."""
    curve = metrics.deferral_curve(confidence, correct, strong_correct)
    random_area = curve.random_area
    headroom = curve.oracle_area - random_area
    deferral = Deferral(
        area=curve.area,
        random_area=random_area,
        oracle_area=curve.oracle_area,
        gain_over_random=curve.area - random_area,
        relative_gain_over_random=(curve.area - random_area) / random_area if random_area else None,
        share_of_oracle_gain=(curve.area - random_area) / headroom if headroom > 0 else None,
        cpt_50=metrics.call_performance_threshold(curve, 0.5),
        cpt_80=metrics.call_performance_threshold(curve, 0.8),
        curve=Curve(curve.rates, curve.accuracy, curve.random_accuracy, curve.oracle_accuracy),
    )
    return Quality(
        scored_items=len(confidence),
        auroc=metrics.auroc(confidence, correct),
        ece=metrics.expected_calibration_error(confidence, correct) if confidence else None,
        reliability=metrics.reliability(confidence, correct),
        deferral=deferral,
    )


def tier_quality(results: Sequence[ItemResult], strong: dict[str, bool] | None) -> Quality:
    """``quality`` of one tier's confidence, deferring to ``strong`` (id -> right), or to an always-right tier."""
    scored = [r for r in results if r.confidence is not None and r.error is None]
    confidence = [r.confidence for r in scored if r.confidence is not None]
    correct = [r.correct for r in scored]
    strong_correct = [strong.get(r.id, True) for r in scored] if strong else [True] * len(scored)
    if not scored:  # the tier failed throughout, or reports no token probabilities
        return Quality(scored_items=0, auroc=None, ece=None, reliability=[], deferral=None)
    return quality(confidence, correct, strong_correct)


def build_report(results: Sequence[ItemResult], local_tier: str, strong_tier: str | None) -> EvalReport:
    """Each tier defers to ``strong_tier`` where that tier answered everything, else to an
    always-right tier (stated in ``assumption``)."""
    by_tier: dict[str, list[ItemResult]] = {}
    for result in results:
        by_tier.setdefault(result.tier, []).append(result)
    strong = by_tier.get(strong_tier) if strong_tier else None
    strong_ok = strong is not None and all(r.error is None for r in strong)
    strong_by_id = {r.id: r.correct for r in strong} if strong_ok and strong is not None else None
    per_tier = {
        name: TierReport(tier_summary(rs), tier_quality(rs, strong_by_id if name != strong_tier else None))
        for name, rs in by_tier.items()
    }
    local, plain = per_tier[local_tier], per_tier.get(PLAIN_TIER)
    baseline = None
    if plain is not None:
        ours, theirs = local.summary.accuracy, plain.summary.accuracy
        difference = None if theirs is None or ours is None else ours - theirs
        baseline = Baseline(PLAIN_TIER, BASELINE_WHAT, theirs, plain.quality.auroc, difference)
    return EvalReport(
        per_tier=per_tier,
        local_tier=local_tier,
        strong_tier=strong_tier if strong_ok else None,
        assumption=None if strong_ok else ORACLE_ASSUMPTION,
        baseline=baseline,
    )
