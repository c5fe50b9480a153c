"""The ``hearth`` command: the window by default, or headless subcommands."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from sqlite_utils.db import NotFoundError

from app import __version__
from app.core import evaluation, keys, stats
from app.core.calibration import Scorer, cross_validated, fit, save, threshold_for_accuracy, threshold_for_rate
from app.core.cascade import Answer, AttemptStarted, EscalationRequest, Finished, TextDelta, TierPlan
from app.core.chat import ChatEvent, Routed, UserMessageSaved
from app.core.confidence import Signals
from app.core.config import LocalModel, Privacy, config_file
from app.core.errors import ConfigError, HearthError
from app.core.eval_plot import write_plot
from app.core.eval_report import build_report
from app.core.evaluation import load_items
from app.core.fetch import FetchProgress, ensure_model_file
from app.core.metrics import auroc
from app.core.paths import user_paths
from app.core.policy import Allowance, allowance
from app.core.session import Session, open_session
from app.core.store import Store


class ProgressPrinter:
    """Fetch progress on stderr: one updating line on a terminal, a line per 10 % otherwise."""

    def __init__(self, stream: TextIO = sys.stderr):
        self.stream = stream
        self.tty = stream.isatty()
        self._last: tuple[str, int] = ("", -1)

    def __call__(self, progress: FetchProgress) -> None:
        if progress.total:
            percent = int(100 * progress.done / progress.total)
            line = f"{progress.message}: {percent}% ({progress.done / 1e6:.0f} of {progress.total / 1e6:.0f} MB)"
        else:
            percent, line = 0, progress.message + "…"
        step = percent if self.tty else percent // 10
        if (progress.message, step) == self._last:
            return
        self._last = (progress.message, step)
        if self.tty:
            self.stream.write("\r\033[K" + line)
            if progress.total and progress.done >= progress.total:
                self.stream.write("\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def ask_consent_on_terminal(request: EscalationRequest) -> bool:
    if not sys.stdin.isatty():
        return False
    cost = "" if request.estimated_cost is None else f", at most about ${request.estimated_cost:.4f}"
    print(
        f"\nHearth wants to send this to {request.tier} ({request.destination}{cost}), exactly as shown:",
        file=sys.stderr,
    )
    for message in request.messages:
        print(f"  [{message.role}] {message.content}", file=sys.stderr)
    return input("Send it? [y/N] ").strip().lower() in ("y", "yes")


def answer_json(answer: Answer, conversation_id: int | None) -> dict[str, Any]:
    return {
        "answer": answer.text,
        "tier": answer.tier,
        "model": answer.model_id,
        "confidence": answer.confidence,
        "escalated": answer.escalated,
        "reason": answer.reason,
        "latency_ms": round(answer.latency_ms, 1),
        "tokens": answer.tokens_out,
        "tokens_in": answer.tokens_in,
        "complete": answer.complete,
        "warning": answer.warning,
        "conversation_id": conversation_id,
        "attempts": [
            {
                "tier": a.tier,
                "model": a.model_id,
                "confidence": a.confidence,
                "latency_ms": round(a.latency_ms, 1),
                "first_token_ms": None if a.first_token_ms is None else round(a.first_token_ms, 1),
                "tokens": a.tokens_out,
                "error": a.error,
                "reason": a.reason,
            }
            for a in answer.attempts
        ],
    }


def cmd_ask(args: argparse.Namespace) -> int:
    session = open_session(progress=ProgressPrinter(), consent=ask_consent_on_terminal)
    try:
        events = session.chat.send(
            args.conversation, args.question, privacy=args.privacy, quick=args.quick, images=args.image
        )
        return _show(events, args.json, args.conversation, None)
    finally:
        session.close()


def cmd_reask(args: argparse.Namespace) -> int:
    session = open_session(progress=ProgressPrinter(), consent=ask_consent_on_terminal)
    try:
        store = session.open_store()
        try:
            conversation_id = store.message(args.message).conversation_id
        except NotFoundError:
            raise HearthError(f"There is no message {args.message}.") from None
        finally:
            store.close()
        return _show(session.chat.reask(args.message, privacy=args.privacy), args.json, conversation_id, args.message)
    finally:
        session.close()


def _show(events: Iterator[ChatEvent], as_json: bool, conversation_id: int | None, message_id: int | None) -> int:
    """Stream the answer to the terminal, or print it as one JSON object at the end."""
    answer: Answer | None = None
    route: dict[str, object] | None = None
    for event in events:
        if isinstance(event, UserMessageSaved):
            conversation_id, message_id = event.conversation_id, event.answer_id
        elif isinstance(event, Routed):
            route = event.route.as_dict()
        elif isinstance(event, Finished):
            answer = event.answer
        elif as_json:
            continue
        elif isinstance(event, AttemptStarted) and event.index > 0:
            print(f"\n\n[escalating to {event.tier}: {event.label}]", file=sys.stderr)
        elif isinstance(event, TextDelta):
            sys.stdout.write(event.text)
            sys.stdout.flush()
    assert answer is not None
    if as_json:
        summary = {**answer_json(answer, conversation_id), "message_id": message_id, "route": route}
        print(json.dumps(summary, ensure_ascii=False))
    else:
        confidence = "n/a" if answer.confidence is None else f"{answer.confidence:.2f}"
        print(f"\n\n[{answer.tier} · {answer.model_id} · confidence {confidence}] {answer.reason}", file=sys.stderr)
        if answer.warning:
            print(f"⚠ {answer.warning}", file=sys.stderr)
    return 0 if answer.complete else 1


def cmd_models(args: argparse.Namespace) -> int:
    paths = user_paths()
    if args.where:
        print(paths.user_config_file)
        return 0
    session = open_session()
    print(f"Configuration: {config_file(paths)}")
    for tier in session.config.tiers:
        for model_id in tier.models:
            model = session.config.models[model_id]
            if isinstance(model, LocalModel):
                path = model.path(paths.models)
                state = "present" if path.exists() else "missing" + (" (fetched on first use)" if model.source else "")
                where = str(path)
            else:
                state = model.location.value
                where = model.base_url
            print(f"{tier.name:<12} {model_id:<20} {state:<30} {where}")
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    session = open_session()
    wanted = args.model or [session.config.tiers[0].models[0]]
    for model_id in wanted:
        model = session.config.models.get(model_id)
        if not isinstance(model, LocalModel):
            raise HearthError(f"'{model_id}' is not a local model in {config_file(session.paths)}.")
        path = ensure_model_file(model, session.paths.models, ProgressPrinter())
        print(f"{model_id}: {path}")
    return 0


def _eval_tiers(session: Session, names: str | None) -> list[TierPlan]:
    """The tiers named, or else every tier the privacy policy allows without asking."""
    plans = session.chat.tiers()
    if names:
        wanted = [name.strip() for name in names.split(",")]
        unknown = set(wanted) - {plan.name for plan in plans}
        if unknown:
            raise HearthError(f"No tier named {', '.join(sorted(unknown))} in {config_file(session.paths)}.")
        return [plan for plan in plans if plan.name in wanted]
    privacy = session.config.settings.privacy
    return [plan for plan in plans if allowance(privacy, plan.providers[0].location) is Allowance.ALLOWED]


class EvalProgress:
    def __init__(self) -> None:
        self.step = -1

    def __call__(self, done: int, total: int, label: str) -> None:
        step = 10 * done // total
        if step != self.step or done == total:
            self.step = step
            print(f"  {done}/{total} answered ({label})", file=sys.stderr, flush=True)


def cmd_eval(args: argparse.Namespace) -> int:
    items = load_items(args.data)[: args.limit]
    session = open_session(progress=ProgressPrinter())
    try:
        tiers = _eval_tiers(session, args.tiers)
        print(f"Evaluating {len(items)} questions on: {', '.join(t.name for t in tiers)}", file=sys.stderr)
        results = evaluation.run(
            items, tiers, session.chat.scorer, session.config.settings.system_prompt, args.max_tokens, EvalProgress()
        )
    finally:
        session.close()
    strong = tiers[1].name if len(tiers) > 1 else None
    report = build_report(results, tiers[0].name, strong)
    out = args.out or Path(f"hearth-eval-{args.data.stem}")
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(
        json.dumps({"data": str(args.data), **report, "results": [r.as_dict() for r in results]}, indent=2)
    )
    local = [(r.confidence, r.correct) for r in results if r.tier == tiers[0].name and r.confidence is not None]
    write_plot(report, local, out / "report.png", f"{args.data.name}: {tiers[0].name} tier, {len(items)} questions")
    print(format_summary(report))
    print(f"Written: {out / 'report.json'}, {out / 'report.png'}")
    return 0


def format_summary(report: dict[str, Any]) -> str:
    lines = []
    for name, tier in report["tiers"].items():
        accuracy = "n/a" if tier["accuracy"] is None else f"{tier['accuracy']:.1%}"
        lines.append(f"{name:<12} accuracy {accuracy} ({tier['answered']}/{tier['items']} answered)")
    deferral = report["deferral"]

    def number(value: float | None, style: str = ".3f") -> str:
        return "n/a" if value is None else format(value, style)

    lines += [
        f"AUROC {number(report['auroc'])} · ECE {number(report['ece'])}",
        f"deferral area {deferral['area']:.3f} vs random {deferral['random_area']:.3f} "
        f"({number(deferral['relative_gain_over_random'], '+.1%')}; "
        f"{number(deferral['share_of_oracle_gain'], '.0%')} of the oracle's gain)",
        f"CPT(50%) {number(deferral['cpt_50'], '.0%')} · CPT(80%) {number(deferral['cpt_80'], '.0%')}",
    ]
    if report["assumption"]:
        lines.append("Note: " + report["assumption"])
    return "\n".join(lines)


def cmd_calibrate(args: argparse.Namespace) -> int:
    items = load_items(args.data)[: args.limit]
    session = open_session(progress=ProgressPrinter())
    try:
        model_id = args.model or session.config.tiers[0].models[0]
        if model_id not in session.config.models:
            raise HearthError(f"No model named '{model_id}' in {config_file(session.paths)}.")
        tier = TierPlan(model_id, [session.registry.get(model_id)])
        print(f"Answering {len(items)} questions with {model_id}", file=sys.stderr)
        results = evaluation.run(
            items,
            [tier],
            Scorer(session.config.settings.threshold),
            session.config.settings.system_prompt,
            args.max_tokens,
            EvalProgress(),
        )
    finally:
        session.close()
    usable = [r for r in results if r.error is None and r.confidence is not None]
    signals = [Signals(**r.signals) for r in usable]  # type: ignore[arg-type]
    correct = [r.correct for r in usable]
    calibration = fit(model_id, signals, correct)
    scores = [calibration.probability(s) or 0.0 for s in signals]
    if args.target_accuracy is not None:
        threshold = threshold_for_accuracy(scores, correct, args.target_accuracy)
        target = f"accuracy of local answers >= {args.target_accuracy:.0%}"
    else:
        threshold = threshold_for_rate(scores, args.target_rate)
        target = f"escalation rate {args.target_rate:.0%}"
    calibration = calibration.model_copy(update={"threshold": threshold, "target": target})
    path = save(calibration, session.paths.calibration)
    held_out = [p or 0.0 for p in cross_validated(model_id, signals, correct)]
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


def cmd_stats(args: argparse.Namespace) -> int:
    session = open_session()
    store = session.open_store()
    try:
        report = stats.compute(store, session.config)
    finally:
        store.close()
        session.close()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(
        f"{'model':<20} {'answers':>7} {'escal.':>6} {'👍':>3} {'👎':>3} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'tokens in/out':>15} {'cost $':>9} {'saved $':>9}"
    )
    for name, row in report["models"].items():
        latency = row["latency_ms"]
        print(
            f"{name:<20} {row.get('answers', 0):>7} {row.get('escalated_to', 0):>6} {row.get('thumbs_up', 0):>3} "
            f"{row.get('thumbs_down', 0):>3} {_ms(latency['p50']):>8} {_ms(latency['p95']):>8} "
            f"{row.get('tokens_in', 0):>7}/{row.get('tokens_out', 0):<7} {row.get('cost', 0.0):>9.4f} "
            f"{row.get('cost_saved', 0.0):>9.4f}"
        )
    for arm, row in report["arms"].items():
        rate = "n/a" if row["escalation_rate"] is None else f"{row['escalation_rate']:.0%}"
        print(
            f"arm {arm}: {row['answers']} answers, escalation rate {rate}, {row['routing_misses']} routing misses, "
            f"👍 {row['thumbs_up']} 👎 {row['thumbs_down']}, cost ${row['cost']:.4f}"
        )
    for challenger, row in report["shadow"].items():
        agreement = "n/a" if row["agreement"] is None else f"{row['agreement']:.2f}"
        print(
            f"shadow {challenger}: {row['runs']} runs ({row['failed']} failed), agreement {agreement}, "
            f"p50 {_ms(row['challenger_latency_ms']['p50'])} ms vs {_ms(row['champion_latency_ms']['p50'])} ms, "
            f"cost ${row['challenger_cost']:.4f}"
        )
    spending = report["spending"]
    budget = spending["monthly_budget"]
    print(
        f"spent this month ${spending['this_month']:.4f}"
        + (f" of ${budget:.2f}" if budget is not None else "")
        + f", in all ${spending['total']:.4f}"
    )
    for row in spending["by_conversation"][:5]:
        print(f"  ${row['cost']:.4f}  {row['title']} (conversation {row['id']})")
    if report["cost_saved_reference"] is None:
        print("Money saved is counted against the priciest configured cloud model; none has prices yet.")
    return 0


def cmd_key(args: argparse.Namespace) -> int:
    if args.action == "set":
        value = getpass.getpass(f"API key '{args.name}': ") if sys.stdin.isatty() else sys.stdin.readline()
        keys.store_key(args.name, value)
        print(f"Stored '{args.name}' in the system keychain.")
    elif args.action == "delete":
        print(f"Deleted '{args.name}'." if keys.delete_key(args.name) else f"There was no key '{args.name}'.")
    else:
        found = keys.where(args.name)
        print(
            f"'{args.name}' comes from the {found}."
            if found
            else f"No key '{args.name}': " + keys.missing_key_message(args.name).split(": ", 1)[-1]
        )
    return 0


def cmd_privacy(args: argparse.Namespace) -> int:
    session = open_session()
    try:
        store = session.open_store()
        try:
            store.conversation(args.conversation)
        except NotFoundError:
            raise HearthError(f"There is no conversation {args.conversation}.") from None
        finally:
            store.close()
        policy = None if args.policy == "default" else Privacy(args.policy)
        session.chat.set_privacy(args.conversation, policy)
    finally:
        session.close()
    follows = f"follows the app's policy ({session.config.settings.privacy.value})"
    print(f"Conversation {args.conversation} " + (f"is now {policy.value}." if policy else follows + "."))
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    store = Store(user_paths().database)
    try:
        rows = store.audit()
    finally:
        store.close()
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "when": r.created_at,
                        "tier": r.tier,
                        "model": r.model,
                        "destination": r.destination,
                        "policy": r.policy,
                        "payload_sha256": r.payload_sha256,
                        "redacted": json.loads(r.redacted or "{}"),
                        "cost": r.cost,
                        "message_id": r.message_id,
                    }
                    for r in rows
                ],
                indent=2,
            )
        )
        return 0
    if not rows:
        print("Nothing has left this computer.")
    for r in rows:
        hidden = ", ".join(f"{n} {k.lower()}" for k, n in json.loads(r.redacted or "{}").items()) or "nothing"
        print(
            f"{r.created_at[:19].replace('T', ' ')}  {r.tier} → {r.destination}  policy {r.policy}  "
            f"${r.cost:.4f}  sha256 {(r.payload_sha256 or '')[:16]}…  redacted: {hidden}"
        )
    return 0


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"


def cmd_feedback(args: argparse.Namespace) -> int:
    store = Store(user_paths().database)
    try:
        if store.message(args.message).role != "assistant":
            raise HearthError(f"Message {args.message} is not an answer.")
        store.add_feedback(args.message, 1 if args.rating == "up" else -1)
    except NotFoundError:
        raise HearthError(f"There is no message {args.message}.") from None
    finally:
        store.close()
    print(f"Thanks: thumbs {args.rating} recorded for answer {args.message}.")
    return 0


def cmd_window(_: argparse.Namespace) -> int:
    from app.ui.main import run_window

    return run_window()


def _answering_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--limit", type=int, default=None, help="only the first N questions")
    parser.add_argument("--max-tokens", type=int, default=64, help="the longest answer, in tokens")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hearth", description="A private-by-default desktop AI assistant.")
    parser.add_argument("--version", action="version", version=f"hearth {__version__}")
    parser.set_defaults(func=cmd_window)
    commands = parser.add_subparsers(title="commands")

    ask = commands.add_parser("ask", help="ask one question and stream the answer")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print one JSON object instead of streaming")
    ask.add_argument("--conversation", type=int, help="continue this conversation (its id)")
    ask.add_argument("--privacy", type=Privacy, choices=list(Privacy), help="override the privacy policy")
    ask.add_argument("--quick", action="store_true", help="a quick answer: skip tiers marked slow")
    ask.add_argument("--image", type=Path, action="append", default=[], help="attach an image (repeatable)")
    ask.set_defaults(func=cmd_ask)

    reask = commands.add_parser("reask", help="ask a stronger model to answer a message again")
    reask.add_argument("message", type=int, help="the answer's message id (from ask --json)")
    reask.add_argument("--json", action="store_true")
    reask.add_argument("--privacy", type=Privacy, choices=list(Privacy))
    reask.set_defaults(func=cmd_reask)

    models = commands.add_parser("models", help="list configured models and whether each is present")
    models.add_argument("--where", action="store_true", help="print where your own models.toml goes")
    models.set_defaults(func=cmd_models)

    fetch = commands.add_parser("fetch", help="download local models now (the default model if none named)")
    fetch.add_argument("model", nargs="*")
    fetch.set_defaults(func=cmd_fetch)

    evaluate = commands.add_parser("eval", help="run the tiers on labelled questions and measure the escalation")
    evaluate.add_argument("data", type=Path, help="questions, one JSON object per line (see tests/data/README.md)")
    evaluate.add_argument("--tiers", help="comma-separated tier names (default: those the privacy policy allows)")
    _answering_options(evaluate)
    evaluate.add_argument("--out", type=Path, default=None, help="folder for report.json and report.png")
    evaluate.set_defaults(func=cmd_eval)

    calibrate = commands.add_parser("calibrate", help="fit a model's confidence on labelled questions")
    calibrate.add_argument("data", type=Path)
    calibrate.add_argument("--model", help="model id (default: the first local model)")
    target = calibrate.add_mutually_exclusive_group()
    target.add_argument("--target-rate", type=float, default=0.3, help="share of messages to escalate")
    target.add_argument(
        "--target-accuracy", type=float, default=None, help="accuracy the answers kept locally should reach"
    )
    _answering_options(calibrate)
    calibrate.set_defaults(func=cmd_calibrate)

    stats_parser = commands.add_parser("stats", help="escalations, misses, feedback, latency and cost per model")
    stats_parser.add_argument("--json", action="store_true")
    stats_parser.set_defaults(func=cmd_stats)

    feedback = commands.add_parser("feedback", help="rate an answer: thumbs up or down")
    feedback.add_argument("message", type=int, help="the answer's message id (from ask --json)")
    feedback.add_argument("rating", choices=["up", "down"])
    feedback.set_defaults(func=cmd_feedback)

    key = commands.add_parser("key", help="store, check or delete an API key (kept in the system keychain)")
    key.add_argument("action", choices=["set", "status", "delete"])
    key.add_argument("name", help='the key\'s name, as in models.toml (key = "NAME")')
    key.set_defaults(func=cmd_key)

    privacy = commands.add_parser("privacy", help="give one conversation its own privacy policy")
    privacy.add_argument("conversation", type=int)
    privacy.add_argument("policy", choices=[p.value for p in Privacy] + ["default"])
    privacy.set_defaults(func=cmd_privacy)

    audit = commands.add_parser("audit", help="everything that was sent off this computer, and why")
    audit.add_argument("--json", action="store_true")
    audit.set_defaults(func=cmd_audit)

    window = commands.add_parser("window", help="open the desktop window (the default)")
    window.set_defaults(func=cmd_window)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"hearth: configuration error: {exc}", file=sys.stderr)
        return 2
    except HearthError as exc:
        print(f"hearth: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
