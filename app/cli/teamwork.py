"""hearth eval --routing: how well requests are recognised by task (the capability map routes by it)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from app.core.teamwork.routing_eval import RoutingReport, confusion_table, evaluate_routing, load_routing_items
from app.core.teamwork.tasks import recognise, recognise_with


def routing_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--routing", type=Path, metavar="DATA", help="measure the task recogniser on labelled requests instead"
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
