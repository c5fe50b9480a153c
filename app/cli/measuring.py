"""Measuring the escalation decision: hearth eval and hearth calibrate."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.cli.arguments import count
from app.cli.teamwork import cmd_eval_routing, cmd_eval_workflow
from app.cli.terminal import ProgressPrinter, ask_consent_on_terminal
from app.core.confidence.calibration import DEFAULT_FEATURES, RICHER_FEATURES, Scorer, fit, save
from app.core.confidence.metrics import auroc
from app.core.confidence.signals import Signals
from app.core.confidence.validation import cross_validated, threshold_for_accuracy, threshold_for_rate
from app.core.config.load import config_file
from app.core.config.schema import LocalModel
from app.core.errors import HearthError
from app.core.evaluation import harness as evaluation
from app.core.evaluation.harness import EvalItem, ItemResult, load_items
from app.core.evaluation.plain_baseline import PlainModel, run_plain
from app.core.evaluation.plot import write_plot
from app.core.evaluation.report import EvalReport, build_report
from app.core.models.fetch import ensure_model_file
from app.core.privacy.gate import Passage
from app.core.routing.cascade import TierPlan
from app.core.session import Session, open_session


def _eval_tiers(session: Session, names: str | None, passage: Passage) -> list[TierPlan]:
    """The tiers named, or else every tier whose model the privacy policy lets answer without asking."""
    plans = session.chat.tiers()
    if names:
        wanted = [name.strip() for name in names.split(",")]
        unknown = set(wanted) - {plan.name for plan in plans}
        if unknown:
            raise HearthError(f"No tier named {', '.join(sorted(unknown))} in {config_file(session.paths)}.")
        return [plan for plan in plans if plan.name in wanted]
    return [plan for plan in plans if passage.unasked(plan.providers[0])]


@contextmanager
def _measuring_session() -> Iterator[tuple[Session, Passage]]:
    """A session, and the way out for its questions: the app's policy; the terminal asks where it must."""
    session = open_session(progress=ProgressPrinter(), consent=ask_consent_on_terminal)
    store = session.open_store()
    try:
        yield session, session.chat.gate.passage(store, session.config.settings.privacy, purpose="evaluation")
    finally:
        store.close()
        session.close()


class EvalProgress:
    def __init__(self) -> None:
        self.step = -1

    def __call__(self, done: int, total: int, label: str) -> None:
        step = 10 * done // total
        if step != self.step or done == total:
            self.step = step
            print(f"  {done}/{total} answered ({label})", file=sys.stderr, flush=True)


def _plain_baseline(session: Session, items: list[EvalItem], max_tokens: int) -> list[ItemResult]:
    """The first local model without Hearth around it, on the same questions."""
    model_id = session.config.tiers[0].models[0]
    model = session.config.models[model_id]
    assert isinstance(model, LocalModel)  # the first tier is local (the configuration says so)
    print(f"Baseline: {model_id} through llama-cpp-python, greedy, no system prompt", file=sys.stderr)
    plain = PlainModel(model_id, model, ensure_model_file(model, session.paths.models))
    try:
        return list(run_plain(plain, items, max_tokens, EvalProgress()))
    finally:
        plain.close()


def cmd_eval(args: argparse.Namespace) -> int:
    if args.routing is not None:
        return cmd_eval_routing(args)
    if args.workflow is not None:
        return cmd_eval_workflow(args)
    if args.data is None:
        raise HearthError(
            "Name the questions to evaluate on (a .jsonl file), or measure routing (--routing DATA) "
            "or the three arms (--workflow DATA)."
        )
    items = load_items(args.data)[: args.limit]
    with _measuring_session() as (session, passage):
        tiers = _eval_tiers(session, args.tiers, passage)
        print(f"Evaluating {len(items)} questions on: {', '.join(t.name for t in tiers)}", file=sys.stderr)
        settings = session.config.settings
        results = evaluation.run(
            items, tiers, session.chat.scorer, settings.system_prompt, args.max_tokens, passage, EvalProgress()
        )
        if not args.no_baseline:
            session.registry.close()  # one model in memory at a time
            results += _plain_baseline(session, items, args.max_tokens)
    strong = tiers[1].name if len(tiers) > 1 else None
    report = build_report(results, tiers[0].name, strong)
    out = args.out or Path(f"hearth-eval-{args.data.stem}")
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(
        json.dumps({"data": str(args.data), **report.as_json(), "results": [r.as_dict() for r in results]}, indent=2)
    )
    local = [(r.confidence, r.correct) for r in results if r.tier == tiers[0].name and r.confidence is not None]
    write_plot(report, local, out / "report.png", f"{args.data.name}: {tiers[0].name} tier, {len(items)} questions")
    print(format_summary(report))
    print(f"Written: {out / 'report.json'}, {out / 'report.png'}")
    return 0


def format_summary(report: EvalReport) -> str:
    def number(value: float | None, style: str = ".3f") -> str:
        return "n/a" if value is None else format(value, style)

    lines = []
    for name, tier in report.per_tier.items():
        summary, scored = tier.summary, tier.quality
        lines.append(
            f"{name:<12} accuracy {number(summary.accuracy, '.1%')} ({summary.answered}/{summary.items} answered) · "
            f"AUROC {number(scored.auroc)} · ECE {number(scored.ece)}"
        )
        deferral = scored.deferral
        if deferral is None:
            continue
        lines += [
            f"{'':<12} deferral area {deferral.area:.3f} vs random {deferral.random_area:.3f} "
            f"({number(deferral.share_of_oracle_gain, '.0%')} of the oracle's gain) · "
            f"CPT(50%) {number(deferral.cpt_50, '.0%')} · CPT(80%) {number(deferral.cpt_80, '.0%')}",
        ]
    baseline = report.baseline
    if baseline is not None and baseline.local_accuracy_minus_plain is not None:
        lines.append(f"{report.local_tier} minus the plain model: {baseline.local_accuracy_minus_plain:+.1%} accuracy")
    if report.assumption:
        lines.append("Note: " + report.assumption)
    return "\n".join(lines)


def cmd_calibrate(args: argparse.Namespace) -> int:
    items = load_items(args.data)[: args.limit]
    with _measuring_session() as (session, passage):
        model_id = args.model or session.config.tiers[0].models[0]
        if model_id not in session.config.models:
            raise HearthError(f"No model named '{model_id}' in {config_file(session.paths)}.")
        tier = TierPlan(model_id, [session.registry.get(model_id)])
        print(f"Answering {len(items)} questions with {model_id}", file=sys.stderr)
        results = evaluation.run(
            items,
            [tier],
            Scorer(session.config.settings.threshold, collect_hidden_states=True),  # both sets read the probe
            session.config.settings.system_prompt,
            args.max_tokens,
            passage,
            EvalProgress(),
        )
    usable = [r for r in results if r.error is None and r.confidence is not None]
    signals = [Signals.from_dict(r.signals) for r in usable]
    correct = [r.correct for r in usable]
    hidden = [r.hidden for r in usable] if all(r.hidden for r in usable) else None
    features = RICHER_FEATURES if args.features == "all" else DEFAULT_FEATURES
    source_of = {item.id: item.source or "" for item in items}  # the kind of question each answer belongs to
    kinds = [source_of[r.id] for r in usable]
    calibration = fit(model_id, signals, correct, hidden=hidden, features=features, kinds=kinds)
    read = [calibration.complete(s, r.hidden) for s, r in zip(signals, usable, strict=True)]
    scores = [calibration.probability(s) or 0.0 for s in read]
    if args.target_accuracy is not None:
        threshold = threshold_for_accuracy(scores, correct, args.target_accuracy)
        target = f"accuracy of local answers >= {args.target_accuracy:.0%}"
    else:
        threshold = threshold_for_rate(scores, args.target_rate)
        target = f"escalation rate {args.target_rate:.0%}"
    calibration = calibration.model_copy(update={"threshold": threshold, "target": target})
    path = save(calibration, session.paths.calibration)
    held_out = [p or 0.0 for p in cross_validated(model_id, signals, correct, features=features, hidden=hidden)]
    default = [r.confidence or 0.0 for r in usable]
    print(f"{model_id}: {sum(correct)}/{len(correct)} right on {args.data.name}")
    print(
        f"AUROC (5-fold, held out): calibrated {_fmt(auroc(held_out, correct))} · "
        f"default score {_fmt(auroc(default, correct))}"
    )
    print(f"threshold {threshold:.3f} for {target}")
    print(f"Written: {path}")
    return 0


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def answering_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--limit", type=count, default=None, help="only the first N questions")
    parser.add_argument("--max-tokens", type=count, default=64, help="the longest answer, in tokens")
