"""The escalation decision on the shipped data, and what routing and scoring cost per message.

    .venv/bin/python -m bench.cascade [--limit N] [--max-tokens 48]

1. Runs the default local model on every shipped evaluation file and reports,
   per file: accuracy, AUROC of confidence for correctness, ECE, the deferral
   curve's gain over random deferral and CPT(50 %/80 %). The stronger tier
   is not run here; it is assumed always right (stated in the JSON).
   Confidence is measured twice: the documented default score, and a
   calibrated model fitted on a *different* file (mmlu_calibrate.jsonl for
   the MMLU evaluation file; 5-fold cross-fitting for the chat file).
2. Times the router's plan and the confidence model (signals + score) per
   message, against a target of 5 ms together.

JSON goes to bench/results/cascade.json.
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from app.core.confidence.calibration import Scorer, cross_validated, fit
from app.core.confidence.signals import Signals, signals_from
from app.core.config.load import default_config_file, load_config_file
from app.core.config.schema import Privacy
from app.core.evaluation import metrics
from app.core.evaluation.harness import ItemResult, load_items, run
from app.core.evaluation.report import build_report
from app.core.paths import user_paths
from app.core.privacy.gate import OutboundGate
from app.core.providers.registry import ProviderRegistry
from app.core.routing import router
from app.core.routing.cascade import TierPlan
from app.core.storage.store import Store
from bench.report import RESULTS, write_report

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"


def scored(results: list[ItemResult]) -> tuple[list[Signals], list[bool], list[float]]:
    usable = [r for r in results if r.error is None and r.confidence is not None]
    return (
        [Signals(**r.signals) for r in usable],
        [r.correct for r in usable],  # type: ignore[arg-type]
        [r.confidence or 0.0 for r in usable],
    )


def quality(confidence: list[float], correct: list[bool]) -> dict[str, Any]:
    curve = metrics.deferral_curve(confidence, correct, [True] * len(correct))
    headroom = curve.oracle_area - curve.random_area
    return {
        "auroc": metrics.auroc(confidence, correct),
        "ece": metrics.expected_calibration_error(confidence, correct),
        "deferral_area": curve.area,
        "random_area": curve.random_area,
        "relative_gain_over_random": curve.area / curve.random_area - 1 if curve.random_area else None,
        "share_of_oracle_gain": (curve.area - curve.random_area) / headroom if headroom > 0 else None,
        "cpt_50": metrics.call_performance_threshold(curve, 0.5),
        "cpt_80": metrics.call_performance_threshold(curve, 0.8),
    }


def overhead(config: Any, repetitions: int) -> dict[str, float]:
    scorer = Scorer(0.3)
    question = "What is the capital of France, and why did it become the capital?"
    answer = "The capital of France is Paris. It became the capital because " * 4
    logprobs = [math.log(0.3 + 0.69 * ((i * 37) % 100) / 100) for i in range(200)]
    entropies = [0.5] * 200
    timings: dict[str, list[float]] = {"router_ms": [], "confidence_ms": []}
    for _ in range(repetitions):
        started = time.perf_counter()
        router.plan(config, router.Request(question), Privacy.CLOUD_AUTO, None)
        timings["router_ms"].append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        scorer.score("m", signals_from(question, answer, logprobs, entropies, "stop"))
        timings["confidence_ms"].append((time.perf_counter() - started) * 1000)
    result = {name: statistics.median(values) for name, values in timings.items()}
    result["p99_total_ms"] = sorted(a + b for a, b in zip(*timings.values(), strict=True))[int(0.99 * repetitions)]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="questions per file (default: all)")
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--out", type=Path, default=RESULTS / "cascade.json")
    args = parser.parse_args(argv)

    config = load_config_file(default_config_file())
    registry = ProviderRegistry(config, user_paths().models)
    local = config.tiers[0].models[0]
    tier = TierPlan("local", [registry.get(local)])
    scorer = Scorer(config.settings.threshold)
    results: dict[str, list[ItemResult]] = {}
    workdir = Path(tempfile.mkdtemp(prefix="hearth-bench-"))
    store = Store(workdir / "bench.db")  # the local tier sends nothing: its audit stays empty
    passage = OutboundGate().passage(store, Privacy.LOCAL_ONLY, purpose="evaluation")
    try:
        for name in ("chat.jsonl", "mmlu_eval.jsonl", "mmlu_calibrate.jsonl"):
            items = load_items(DATA / name)[: args.limit]
            started = time.perf_counter()
            results[name] = run(items, [tier], scorer, config.settings.system_prompt, args.max_tokens, passage)
            print(f"{name}: {len(items)} questions in {time.perf_counter() - started:.0f} s")
    finally:
        store.close()
        registry.close()

    report: dict[str, Any] = {
        "benchmark": "cascade",
        "model": local,
        "max_tokens": args.max_tokens,
        "assumption": "the stronger tier is not run and is taken to be always right",
        "files": {},
    }
    for name in ("chat.jsonl", "mmlu_eval.jsonl"):
        signals, correct, default = scored(results[name])
        if name == "mmlu_eval.jsonl":
            train_signals, train_correct, _ = scored(results["mmlu_calibrate.jsonl"])
            calibration = fit(local, train_signals, train_correct)
            calibrated = [calibration.probability(s) or 0.0 for s in signals]
            how = "fitted on mmlu_calibrate.jsonl (disjoint questions)"
        else:
            calibrated = [p or 0.0 for p in cross_validated(local, signals, correct)]
            how = "5-fold cross-fitted (each answer scored by a fit that did not see it)"
        summary = build_report(results[name], "local", None)
        report["files"][name] = {
            "questions": len(results[name]),
            "accuracy": summary["tiers"]["local"]["accuracy"],
            "default_score": quality(default, correct),
            "calibrated": {"how": how, **quality(calibrated, correct)},
        }
    report["overhead_per_message"] = {**overhead(config, 2000), "target_ms": 5.0}
    report["overhead_per_message"]["target_met"] = (
        report["overhead_per_message"]["router_ms"] + report["overhead_per_message"]["confidence_ms"] < 5.0
    )
    write_report(report, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
