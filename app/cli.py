"""The ``hearth`` command: the window by default, or headless subcommands."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from app import __version__
from app.core.cascade import Answer, AttemptStarted, EscalationRequest, Finished, TextDelta
from app.core.chat import UserMessageSaved
from app.core.config import LocalModel, Privacy, config_file
from app.core.errors import ConfigError, HearthError
from app.core.fetch import FetchProgress, ensure_model_file
from app.core.paths import user_paths
from app.core.session import open_session


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
    print(f"\nHearth wants to send this conversation to {request.tier} ({request.destination}):", file=sys.stderr)
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
    answer: Answer | None = None
    conversation_id = args.conversation
    try:
        for event in session.chat.send(args.conversation, args.question, privacy=args.privacy):
            if isinstance(event, UserMessageSaved):
                conversation_id = event.conversation_id
            if args.json:
                if isinstance(event, Finished):
                    answer = event.answer
                continue
            if isinstance(event, AttemptStarted) and event.index > 0:
                print(f"\n\n[escalating to {event.tier}: {event.label}]", file=sys.stderr)
            elif isinstance(event, TextDelta):
                sys.stdout.write(event.text)
                sys.stdout.flush()
            elif isinstance(event, Finished):
                answer = event.answer
    finally:
        session.close()
    assert answer is not None
    if args.json:
        print(json.dumps(answer_json(answer, conversation_id), ensure_ascii=False))
    else:
        confidence = "n/a" if answer.confidence is None else f"{answer.confidence:.2f}"
        print(f"\n\n[{answer.tier} · {answer.model_id} · confidence {confidence}] {answer.reason}", file=sys.stderr)
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


def cmd_window(_: argparse.Namespace) -> int:
    from app.ui.main import run_window

    return run_window()


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
    ask.set_defaults(func=cmd_ask)

    models = commands.add_parser("models", help="list configured models and whether each is present")
    models.add_argument("--where", action="store_true", help="print where your own models.toml goes")
    models.set_defaults(func=cmd_models)

    fetch = commands.add_parser("fetch", help="download local models now (the default model if none named)")
    fetch.add_argument("model", nargs="*")
    fetch.set_defaults(func=cmd_fetch)

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
