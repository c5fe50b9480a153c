"""hearth eval --routing (how well requests are recognised by task) and --workflow (three arms on multi-part
tasks: the strongest model alone, the cascade, plan mode, draft-then-refine)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from app.cli.terminal import ProgressPrinter, ask_consent_on_terminal
from app.core.answers import Answer
from app.core.evaluation.routing_eval import RoutingReport, confusion_table, evaluate_routing, load_routing_items
from app.core.evaluation.workflow_eval import ARMS, ArmSummary, arm_runners, load_workflow_items, run_arm, summarise
from app.core.routing.tasks import recognise, recognise_with


def routing_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--routing", type=Path, metavar="DATA", help="measure the task recogniser on labelled requests instead"
    )
    parser.add_argument(
        "--workflow",
        type=Path,
        metavar="DATA",
        help="run the strongest model alone, the cascade, plan mode and draft-then-refine on labelled multi-part tasks",
    )
    parser.add_argument(
        "--with-model",
        action="store_true",
        help="with --routing: also measure the rules backed by the local model naming the task",
    )


def cmd_eval_routing(args: argparse.Namespace) -> int:
    items = load_routing_items(args.routing)[: args.limit]
    arms = {"rules": evaluate_routing(items, recognise)}
    if args.with_model:
        from app.core.session import open_session

        session = open_session()
        try:
            local = session.registry.local()
            print(f"Asking {local.model_id} where no rule names the task ...", file=sys.stderr)
            arms["rules+model"] = evaluate_routing(items, lambda text, image: recognise_with(local, text, image))
        finally:
            session.close()
    out = args.out or Path(f"hearth-eval-routing-{args.routing.stem}")
    out.mkdir(parents=True, exist_ok=True)
    document = {"data": str(args.routing), "arms": {name: report.as_dict() for name, report in arms.items()}}
    (out / "routing.json").write_text(json.dumps(document, indent=2, ensure_ascii=False))
    for name, report in arms.items():
        print(_summary(name, report))
    print(f"Written: {out / 'routing.json'}")
    return 0


def _summary(name: str, report: RoutingReport) -> str:
    worst = sorted(report.recall().items(), key=lambda kv: kv[1])[:3]
    weakest = ", ".join(f"{task} {share:.0%}" for task, share in worst)
    return (
        f"{name}: routing accuracy {report.accuracy:.1%} ({report.correct}/{report.items}); "
        f"weakest: {weakest}\n{confusion_table(report)}\n"
    )


def cmd_eval_workflow(args: argparse.Namespace) -> int:
    from app.core.evaluation.workflow_plot import write_workflow_plot
    from app.core.session import open_session

    items = load_workflow_items(args.workflow)[: args.limit]
    session = open_session(progress=ProgressPrinter(), consent=ask_consent_on_terminal)
    store = session.open_store()
    try:
        chat = session.chat
        passage = chat.gate.passage(store, session.config.settings.privacy, purpose="evaluation")
        runners = arm_runners(chat.modes, store, passage, chat.scorer)

        def cost(answer: Answer) -> float:
            return sum(chat.pricing.cost(a.model_id, a.tokens_in, a.tokens_out) for a in answer.attempts)

        results = []
        for number, item in enumerate(items, start=1):
            for arm in ARMS:
                results.append(run_arm(arm, item, runners[arm], cost))
                print(f"  {number}/{len(items)} {item.id}: {arm} done", file=sys.stderr, flush=True)
    finally:
        store.close()
        session.close()
    summaries = summarise(results)
    out = args.out or Path(f"hearth-eval-workflow-{args.workflow.stem}")
    out.mkdir(parents=True, exist_ok=True)
    document = {
        "data": str(args.workflow),
        "arms": [s.as_dict() for s in summaries],
        "results": [{**r.__dict__, "success": r.success} for r in results],
    }
    (out / "workflow.json").write_text(json.dumps(document, indent=2, ensure_ascii=False))
    write_workflow_plot(summaries, out / "workflow.png", f"{args.workflow.name}: {len(items)} multi-part tasks")
    print(workflow_table(summaries))
    print(f"Written: {out / 'workflow.json'}, {out / 'workflow.png'}")
    return 0


def workflow_table(summaries: list[ArmSummary]) -> str:
    lines = [
        f"{'arm':<10} {'success':>8} {'parts':>6} {'routing':>8} {'latency':>9} {'sent':>7} {'cost':>9} "
        f"{'cost/quality':>13}"
    ]
    for s in summaries:
        routing = "n/a" if s.routing_accuracy is None else f"{s.routing_accuracy:.0%}"
        per = "n/a" if s.cost_per_quality is None else f"${s.cost_per_quality:.4f}"
        lines.append(
            f"{s.arm:<10} {s.success_rate:>8.0%} {s.quality:>6.0%} {routing:>8} {s.latency_ms / 1000:>8.1f}s "
            f"{s.tokens_sent:>7} ${s.cost:>8.4f} {per:>13}"
        )
    return "\n".join(lines)
