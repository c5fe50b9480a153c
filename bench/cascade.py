"""The escalation decision on every shipped labelled set, against the plain model in the same run.

    .venv/bin/python -m bench.cascade [--limit N] [--max-tokens 48] [--costly 40] [--write-fit]
    .venv/bin/python -m bench.cascade --gguf gemma-3-270m-q4_k_m.gguf --name gemma3-270m --write-fit

For one local model (the default tier's, or ``--gguf``):

1. Answers every set's calibration and evaluation half through Hearth's chat
   path (the chat's context, sampling and signals), and the evaluation half
   through the plain model too (llama-cpp-python's chat API, greedy, no system
   prompt); with ``--before``, also with the settings Hearth shipped before
   (temperature 0.2 and repeat penalty 1.1 for every request).
2. Fits the calibration (probe + logistic) on the calibration files only and
   reports, per evaluation half: accuracy (Hearth, plain, before), the
   default score's AUROC, ECE, share of the oracle's deferral gain and
   CPT(50/80 %), and each single signal's AUROC. The stronger tier is not run:
   it is taken to be always right (stated in the JSON).
3. Measures the costly signals (agreement of cheap samples, P(True)) on the
   first ``--costly`` items of each evaluation half, every signal's cost in ms
   per answer against the answer's own generation time, and the router's plan
   per message.
4. Every fit and single signal on three other domains no fit is made from
   (tests/data/*_unseen.jsonl: chemical elements, Python's standard library,
   naming categories), only ever reported.
5. With ``--unseen``, how the fit does on a kind of question it never saw:
   each kind in the calibration files (a relation of the short facts, a task)
   left out of the fit in turn and scored.

JSON goes to bench/results/cascade-<model>.json; ``--write-fit`` writes the
fit to resources/calibration/<model>.json, which Hearth ships.
"""

from __future__ import annotations

import argparse
import hashlib
import pickle
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from app.core.confidence import costly_signals, self_check
from app.core.confidence.calibration import (
    DEFAULT_FEATURES,
    FEATURES,
    RICHER_FEATURES,
    SHIPPED,
    Calibration,
    Scorer,
    calibration_file,
    fit,
    save,
)
from app.core.confidence.metrics import auroc
from app.core.confidence.signals import Signals, default_score, signals_from
from app.core.config.load import default_config_file, load_config_file
from app.core.config.schema import Config, LocalModel, Privacy
from app.core.conversation.learning.held_out import held_out_folder, held_out_rows
from app.core.evaluation.harness import EvalItem, ItemResult, load_items, run
from app.core.evaluation.plain_baseline import PlainModel, run_plain
from app.core.evaluation.report import quality
from app.core.models.fetch import ensure_model_file
from app.core.paths import user_paths
from app.core.privacy.gate import OutboundGate
from app.core.providers.base import Message, Sampling
from app.core.providers.llama_cpp import LlamaCppProvider
from app.core.routing import router
from app.core.routing.cascade import TierPlan
from app.core.storage.store import Store
from bench.report import RESULTS, write_report

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
# MMLU (tests/data/mmlu_*.jsonl) is left out: the bundled model answers it at chance, so its
# answers say nothing about confidence, and its long questions cost the most time.
KINDS = ("facts", "choice", "arithmetic", "instructions")
# Other domains, of kinds no fit is made from (tests/data/*_unseen.jsonl, make_unseen.py): only ever reported.
UNSEEN_DOMAINS = ("elements", "stdlib", "categories")
# Single signals, each oriented so that higher means "more likely right".
SINGLE: dict[str, Any] = {
    "mean_logprob": lambda s: s.mean_logprob,
    "sum_logprob": lambda s: s.sum_logprob,
    "min_logprob": lambda s: s.min_logprob,
    "q10_prob": lambda s: s.q10_prob,
    "q25_prob": lambda s: s.q25_prob,
    "median_prob": lambda s: s.median_prob,
    "neg_mean_entropy": lambda s: None if s.mean_entropy is None else -s.mean_entropy,
    "neg_max_entropy": lambda s: None if s.max_entropy is None else -s.max_entropy,
    "mean_margin": lambda s: s.mean_margin,
    "min_margin": lambda s: s.min_margin,
    "span_mean_logprob": lambda s: s.span_mean_logprob,
    "span_min_logprob": lambda s: s.span_min_logprob,
    "span_first_logprob": lambda s: s.span_first_logprob,
    "neg_span_mean_entropy": lambda s: None if s.span_mean_entropy is None else -s.span_mean_entropy,
    "span_min_margin": lambda s: s.span_min_margin,
    "end_logprob": FEATURES["end_logprob"],
    "probe": lambda s: s.probe,
    "self_check": FEATURES["self_check"],
}
BEFORE = {"short_temperature": 0.2, "short_repeat_penalty": 1.1}


def scored(results: list[ItemResult]) -> list[ItemResult]:
    return [r for r in results if r.error is None and r.signals.get("mean_logprob") is not None]


def signals_of(results: list[ItemResult]) -> list[Signals]:
    return [Signals.from_dict(r.signals) for r in results]


def auroc_of(values: list[float | None], correct: list[bool]) -> float | None:
    pairs = [(v, c) for v, c in zip(values, correct, strict=True) if v is not None]
    return auroc([v for v, _ in pairs], [c for _, c in pairs]) if len(pairs) == len(values) else None


def summary(confidence: list[float], correct: list[bool]) -> dict[str, Any]:
    q = quality(confidence, correct, [True] * len(correct))
    deferral = q.deferral
    assert deferral is not None  # quality() always draws the curve
    return {
        "auroc": q.auroc,
        "ece": q.ece,
        "share_of_oracle_gain": deferral.share_of_oracle_gain,
        "cpt_50": deferral.cpt_50,
        "cpt_80": deferral.cpt_80,
    }


def fitted(
    model_id: str,
    results: list[ItemResult],
    sources: dict[str, str] | None,
    features: tuple[str, ...] = DEFAULT_FEATURES,
) -> Calibration:
    """The fit of these answers, its probe read out of fold by each question's kind (``sources``: a
    relation, a task), or by answer without ``sources``."""
    kinds = [sources[r.id] for r in results] if sources is not None else None
    return fit(
        model_id,
        signals_of(results),
        [r.correct for r in results],
        hidden=[r.hidden for r in results],
        kinds=kinds,
        features=features,
    )


def scores_of(calibration: Calibration, results: list[ItemResult]) -> list[float]:
    """The calibrated probability of each answer, the probe reading its hidden state where the fit has one."""
    return [
        calibration.probability(calibration.complete(s, r.hidden)) or 0.0
        for s, r in zip(signals_of(results), results, strict=True)
    ]


def unseen_domain(results: list[ItemResult], fits: dict[str, Calibration], richer: Calibration) -> dict[str, Any]:
    """Each fit and each single signal on answers of a domain none of them was made from."""
    correct = [r.correct for r in results]
    read = [richer.complete(s, r.hidden) for s, r in zip(signals_of(results), results, strict=True)]
    return {
        "items": len(results),
        "accuracy": accuracy(results),
        **{name: summary(scores_of(made, results), correct) for name, made in fits.items()},
        # Hearth's answer is the plain model's here: its mean_logprob is the plain baseline's confidence.
        "single_signals": {name: auroc_of([get(s) for s in read], correct) for name, get in SINGLE.items()},
    }


def accuracy(results: list[ItemResult]) -> float:
    return sum(r.correct for r in results) / len(results) if results else float("nan")


def costly(
    provider: LlamaCppProvider, items: list[EvalItem], results: list[ItemResult], system_prompt: str
) -> dict[str, Any]:
    """Agreement of cheap samples and P(True) on these answers: AUROC and ms per answer."""
    agreement, p_true, agreement_ms, p_true_ms = [], [], [], []
    by_id = {item.id: item for item in items}
    for result in results:
        item = by_id[result.id]
        messages = [Message("system", system_prompt), Message("user", item.prompt)]
        started = time.perf_counter()
        agreement.append(costly_signals.agreement(provider, messages, result.answer, result.tokens))
        agreement_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        p_true.append(costly_signals.p_true(provider, item.prompt, result.answer))
        p_true_ms.append((time.perf_counter() - started) * 1000)
    correct = [r.correct for r in results]
    return {
        "items": len(results),
        "agreement": {"auroc": auroc(agreement, correct), "ms": statistics.median(agreement_ms)},
        "p_true": {"auroc": auroc(p_true, correct), "ms": statistics.median(p_true_ms)},
        "generation_ms": statistics.median(r.latency_ms for r in results),
    }


def scoring_cost(
    calibration: Calibration, results: list[ItemResult], questions: dict[str, str], repetitions: int = 3
) -> dict[str, float]:
    """ms per answer of the signals (the self-check among them), the probe and the fit, on answers
    spread over every set."""
    sample = results[:: max(1, len(results) // 60)]
    started = time.perf_counter()
    for _ in range(repetitions):
        for result in sample:
            n = result.tokens or 1
            question = questions[result.id]
            signals = signals_from(question, result.answer, [-0.1] * n, [0.5] * n, "stop", [1.0] * n, ["a"] * n)
            signals = calibration.complete(signals, result.hidden)
            calibration.probability(signals)
    per_answer = (time.perf_counter() - started) * 1000 / (repetitions * len(sample))
    started = time.perf_counter()
    for _ in range(repetitions):
        for result in sample:
            self_check.check(questions[result.id], result.answer)
    checking = (time.perf_counter() - started) * 1000 / (repetitions * len(sample))
    return {"signals_and_fit_ms": per_answer, "self_check_ms": checking}


def pair_weighted_auroc(groups: dict[str, tuple[list[float], list[bool]]]) -> float | None:
    """AUROC within each group, averaged with each group's number of right-wrong pairs as its weight
    (the AUROC of every pair whose two answers share a group)."""
    total = weighted = 0.0
    for scores, correct in groups.values():
        pairs = sum(correct) * (len(correct) - sum(correct))
        value = auroc(scores, correct)
        if pairs and value is not None:
            total += pairs
            weighted += pairs * value
    return weighted / total if total else None


UNSEEN_SIGNALS = ("mean_logprob", "neg_mean_entropy", "neg_max_entropy", "span_min_logprob")


def unseen_kinds(
    model_id: str, train: list[ItemResult], sources: dict[str, str], kind_of: dict[str, str]
) -> dict[str, Any]:
    """The fit on kinds of question it never saw: each kind in the calibration files (``sources``: a
    facts relation, a task) held out in turn, the fit made from every other calibration answer and
    scored on that kind's, against single signals on the same answers. Per kind of request
    (``kind_of``: facts, choice...) and over all: pooled over the kinds, and within each
    (pair-weighted), which is how a set of questions of one new kind would rank them."""
    groups = [sources[r.id] for r in train]
    read: dict[str, dict[str, tuple[list[float], list[bool]]]] = {"fit": {}, **{name: {} for name in UNSEEN_SIGNALS}}
    for group in sorted(set(groups)):
        rest = [r for r, g in zip(train, groups, strict=True) if g != group]
        held = [r for r, g in zip(train, groups, strict=True) if g == group]
        made = fitted(model_id, rest, sources)
        signals = signals_of(held)
        correct = [r.correct for r in held]
        read["fit"][group] = (
            [made.probability(made.complete(s, r.hidden)) or 0.0 for s, r in zip(signals, held, strict=True)],
            correct,
        )
        for name in UNSEEN_SIGNALS:
            read[name][group] = ([SINGLE[name](s) or 0.0 for s in signals], correct)
    kinds_of_group = {g: kind_of[r.id] for r, g in zip(train, groups, strict=True)}

    def measured(of: dict[str, tuple[list[float], list[bool]]]) -> dict[str, Any]:
        return {
            "kinds": len(of),
            "answers": sum(len(c) for _, c in of.values()),
            "pooled_auroc": auroc(
                [v for scores, _ in of.values() for v in scores], [c for _, cs in of.values() for c in cs]
            ),
            "within_kind_auroc": pair_weighted_auroc(of),
        }

    return {
        request: {
            name: measured({g: v for g, v in by_group.items() if request == "all" or kinds_of_group[g] == request})
            for name, by_group in read.items()
        }
        for request in (*KINDS, "all")
    }


def router_cost(config: Config, repetitions: int = 2000) -> float:
    """Median ms of the router's plan for one message (before anything is generated)."""
    request = router.Request("What is the capital of France, and why did it become the capital?")
    timings = []
    for _ in range(repetitions):
        started = time.perf_counter()
        router.plan(config, request, Privacy.CLOUD_AUTO, None)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def hidden_state_cost(provider: LlamaCppProvider, repetitions: int = 9) -> float:
    """ms per answer of reading the hidden state (each answer token's state and one more step at the
    end): the same greedy answer with and without it, median of each."""
    question = [Message("user", "Name three primary colours.")]

    def median_ms(sampling: Sampling) -> float:
        timings = []
        for _ in range(repetitions):
            provider._load_locked().reset()  # the whole prompt read each time, as for a new question
            started = time.perf_counter()
            list(provider.stream(question, max_tokens=32, sampling=sampling))
            timings.append((time.perf_counter() - started) * 1000)
        return statistics.median(timings)

    median_ms(Sampling(temperature=0.0))  # warm up
    return max(0.0, median_ms(Sampling(temperature=0.0, hidden_state=True)) - median_ms(Sampling(temperature=0.0)))


class Answers:
    """Answers per file and arm, kept in a folder so that an interrupted run picks up where it stopped."""

    def __init__(self, folder: Path | None, limit: int | None):
        self.folder = folder
        self.limit = limit

    def get(self, arm: str, name: str, answer: Callable[[list[EvalItem]], Iterable[ItemResult]]) -> list[ItemResult]:
        path = self.folder / f"{arm}-{name}-{self.limit}.pickle" if self.folder else None
        items = load_items(DATA / f"{name}.jsonl")[: self.limit]
        results: list[ItemResult] = []
        if self.folder is not None:  # the longest run kept (the first N of a file): only the rest is asked
            for kept in self.folder.glob(f"{arm}-{name}-*.pickle"):
                earlier = pickle.loads(kept.read_bytes())
                if len(earlier) > len(results):
                    results = earlier
        if len(results) >= len(items):
            return results[: len(items)]
        started = time.perf_counter()
        results += answer(items[len(results) :])
        print(f"{arm} {name}: {len(items)} in {time.perf_counter() - started:.0f} s", flush=True)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(pickle.dumps(results))
        return results

    def measured(self, name: str, measure: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """A measurement kept like the answers (the costly signals take the longest)."""
        path = self.folder / f"{name}.pickle" if self.folder else None
        if path is not None and path.exists():
            return pickle.loads(path.read_bytes())
        result = measure()
        if path is not None:
            path.write_bytes(pickle.dumps(result))
        return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="questions per file (default: all)")
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--costly", type=int, default=40, help="items per set for agreement and P(True)")
    parser.add_argument("--before", action="store_true", help="also answer with the settings shipped before")
    parser.add_argument(
        "--plain-calibrate",
        type=lambda v: v.split(","),
        default=[],
        help="kinds whose calibration half the plain model answers too",
    )
    parser.add_argument("--gguf", type=Path, help="another GGUF file (default: the default tier's model)")
    parser.add_argument("--name", help="its model id (with --gguf)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--write-fit", action="store_true", help="write the fit to resources/calibration/")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--unseen", action="store_true", help="also fit without each kind of question in turn and score it"
    )
    parser.add_argument("--keep", type=Path, help="keep answers in this folder and reuse them when run again")
    args = parser.parse_args(argv)

    config = load_config_file(default_config_file())
    if args.gguf:
        path = args.gguf.resolve()
        model_id = args.name or path.stem
        model = LocalModel(provider="llama-cpp", file=str(path), n_ctx=2048)
    else:
        model_id = config.tiers[0].models[0]
        model = config.models[model_id]
        assert isinstance(model, LocalModel)
        path = ensure_model_file(model, user_paths().models)
    model = model.model_copy(update={"threads": args.threads})
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    system_prompt = config.settings.system_prompt
    scorer = Scorer(config.settings.threshold, collect_hidden_states=True)  # to fit and measure the probe
    store = Store(Path(tempfile.mkdtemp(prefix="hearth-bench-")) / "bench.db")  # the local tier sends nothing
    passage = OutboundGate().passage(store, Privacy.LOCAL_ONLY, purpose="evaluation")

    def through(plan: TierPlan) -> Callable[[list[EvalItem]], list[ItemResult]]:
        return lambda items: run(items, [plan], scorer, system_prompt, args.max_tokens, passage)

    answers = Answers(args.keep / model_id if args.keep else None, args.limit)
    provider = LlamaCppProvider(model_id, model, lambda: path)
    tier = TierPlan("local", [provider])
    hearth = {
        kind: {half: answers.get("hearth", f"{kind}_{half}", through(tier)) for half in ("calibrate", "eval")}
        for kind in KINDS
    }
    unseen_answers = {name: scored(answers.get("hearth", f"{name}_unseen", through(tier))) for name in UNSEEN_DOMAINS}
    plain_model = PlainModel(model_id, model, path)
    # The calibration halves (of the kinds asked for) choose the prompt and sampling; the evaluation halves report.
    plain_halves = {
        kind: {
            half: answers.get("plain", f"{kind}_{half}", lambda items: run_plain(plain_model, items, args.max_tokens))
            for half in ("calibrate", "eval")
            if half == "eval" or kind in args.plain_calibrate
        }
        for kind in KINDS
    }
    plain_model.close()
    plain = {kind: plain_halves[kind]["eval"] for kind in KINDS}
    before: dict[str, list[ItemResult]] = {}
    if args.before:
        old = TierPlan("local", [LlamaCppProvider(model_id, model.model_copy(update=BEFORE), lambda: path)])
        for kind in KINDS:
            before[kind] = answers.get("before", f"{kind}_eval", through(old))
        old.providers[0].close()

    train = [r for kind in KINDS for r in scored(hearth[kind]["calibrate"])]
    calibration_items = {kind: load_items(DATA / f"{kind}_calibrate.jsonl") for kind in KINDS}
    # Each calibration question's kind (a relation of the short facts, a task): the probe is read out of fold by kind.
    sources = {item.id: item.source or kind for kind, items in calibration_items.items() for item in items}
    calibration = fitted(model_id, train, sources).model_copy(
        update={
            "model_sha256": sha256,
            "model_file": path.name,
            "source": "shipped",
            "fitted_on": tuple(f"tests/data/{kind}_calibrate.jsonl" for kind in KINDS),
        }
    )
    # The fit as shipped before: the probe read out of fold by answer, so the layer above learns how it
    # does on kinds of question it was fitted on.
    by_answer = fitted(model_id, train, None)
    richer = fitted(model_id, train, sources, RICHER_FEATURES)
    report: dict[str, Any] = {
        "benchmark": "cascade",
        "model": model_id,
        "model_sha256": sha256,
        "max_tokens": args.max_tokens,
        "limit": args.limit,
        "assumption": "the stronger tier is not run and is taken to be always right",
        "calibration": {
            "fitted_on": list(calibration.fitted_on),
            "examples": calibration.examples,
            "features": list(calibration.features),
        },
        "sets": {},
    }
    held_out: dict[str, dict[str, float | None]] = {}
    pooled: dict[str, list[Any]] = {"default": [], "uncalibrated": [], "correct": []}
    for kind in KINDS:
        results = scored(hearth[kind]["eval"])
        signals = [calibration.complete(s, r.hidden) for s, r in zip(signals_of(results), results, strict=True)]
        correct = [r.correct for r in results]
        calibrated = [calibration.probability(s) or 0.0 for s in signals]
        uncalibrated = [default_score(s) or 0.0 for s in signals]
        plain_scored = [r for r in plain[kind] if r.confidence is not None]
        fit_on_train = [
            calibration.complete(s, r.hidden)
            for s, r in zip(
                signals_of(scored(hearth[kind]["calibrate"])), scored(hearth[kind]["calibrate"]), strict=True
            )
        ]
        train_correct = [r.correct for r in scored(hearth[kind]["calibrate"])]
        entry = {
            "items": len(hearth[kind]["eval"]),
            "accuracy": {
                "hearth": accuracy(hearth[kind]["eval"]),
                "plain": accuracy(plain[kind]),
                "before": accuracy(before[kind]) if kind in before else None,
            },
            "accuracy_on_calibration_half": {
                "hearth": accuracy(hearth[kind]["calibrate"]),
                "plain": accuracy(plain_halves[kind]["calibrate"]) if kind in args.plain_calibrate else None,
            },
            "same_answer_as_plain": sum(
                h.answer.strip() == p.answer.strip() for h, p in zip(hearth[kind]["eval"], plain[kind], strict=True)
            )
            / max(1, len(plain[kind])),
            "default_score": summary(calibrated, correct),
            "default_score_on_fit_data": summary(
                [calibration.probability(s) or 0.0 for s in fit_on_train], train_correct
            ),
            "uncalibrated_default": summary(uncalibrated, correct),
            "fit_reading_the_probe_by_answer": summary(scores_of(by_answer, results), correct),
            "richer_fit": summary(scores_of(richer, results), correct),
            "plain_mean_logprob": summary(
                [r.confidence or 0.0 for r in plain_scored], [r.correct for r in plain_scored]
            ),
            # The probe's reading comes from the fit over every signal (the shipped one may have no probe).
            "single_signals": {
                name: auroc_of(
                    [get(richer.complete(s, r.hidden)) for s, r in zip(signals, results, strict=True)], correct
                )
                for name, get in SINGLE.items()
            },
            "median_generation_ms": statistics.median(r.latency_ms for r in results) if results else None,
        }
        if args.costly:
            items = load_items(DATA / f"{kind}_eval.jsonl")
            first = results[: args.costly]
            entry["costly"] = answers.measured(
                f"costly-{kind}-{args.costly}",
                lambda items=items, first=first: costly(provider, items, first, system_prompt),
            )
        report["sets"][kind] = entry
        held_out[f"tests/data/{kind}_eval.jsonl"] = {
            "items": len(results),
            "accuracy": entry["accuracy"]["hearth"],
            "auroc": entry["default_score"]["auroc"],
            "ece": entry["default_score"]["ece"],
        }
        pooled["default"] += calibrated
        pooled["uncalibrated"] += uncalibrated
        pooled["correct"] += correct
        print(kind, entry["accuracy"], entry["default_score"], flush=True)
    report["pooled"] = {
        "default_score": summary(pooled["default"], pooled["correct"]),
        "uncalibrated_default": summary(pooled["uncalibrated"], pooled["correct"]),
    }
    fits = {"default_score": calibration, "fit_reading_the_probe_by_answer": by_answer}
    report["unseen_domains"] = {name: unseen_domain(results, fits, richer) for name, results in unseen_answers.items()}
    if args.unseen:
        kind_of = {item.id: kind for kind, items in calibration_items.items() for item in items}
        report["unseen_kinds"] = unseen_kinds(model_id, train, sources, kind_of)
    every = [r for kind in KINDS for r in scored(hearth[kind]["eval"])]
    report["cost"] = {
        **scoring_cost(
            calibration, every, {i.id: i.prompt for kind in KINDS for i in load_items(DATA / f"{kind}_eval.jsonl")}
        ),
        "hidden_state_ms": hidden_state_cost(provider),
        "router_ms": router_cost(config),
        "median_generation_ms": statistics.median(r.latency_ms for r in every),
        "median_answer_tokens": statistics.median(r.tokens for r in every),
    }
    cost = report["cost"]
    # What the default score costs: the signals and the fit, plus the hidden-state step only where the
    # shipped fit has a probe (Hearth skips the step otherwise). The bench's answers all took that step,
    # to fit the probe: it is taken out of the generation time they are compared with.
    cost["reads_hidden_state"] = calibration.reads_hidden_state
    cost["default_score_ms"] = cost["signals_and_fit_ms"] + cost["hidden_state_ms"] * calibration.reads_hidden_state
    cost["share_of_generation"] = cost["default_score_ms"] / (cost["median_generation_ms"] - cost["hidden_state_ms"])
    provider.close()
    store.close()
    if args.write_fit:
        shipped_fit = calibration.model_copy(update={"held_out": held_out})
        report["fit_written"] = str(save(shipped_fit, SHIPPED, name=model_id))
        # The held-out answers as the numbers a fit reads: a refit from the user's verdicts is checked on them.
        rows = held_out_rows(
            shipped_fit,
            [calibration.complete(Signals.from_dict(r.signals), r.hidden) for r in every],
            [r.correct for r in every],
            list(held_out),
        )
        held_out_file = calibration_file(held_out_folder(SHIPPED), model_id)
        held_out_file.parent.mkdir(parents=True, exist_ok=True)
        held_out_file.write_text(rows.model_dump_json(), encoding="utf-8")
    write_report(report, args.out or RESULTS / f"cascade-{model_id}.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
