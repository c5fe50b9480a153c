"""The ``hearth`` command line: the parser and its entry point."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from app import __version__
from app.cli.arguments import row_id, undecodable_argument
from app.cli.catalog import add_catalog_command
from app.cli.chatting import (
    cmd_ask,
    cmd_edit,
    cmd_feedback,
    cmd_privacy,
    cmd_reask,
    cmd_regenerate,
    cmd_summary,
    cmd_switch,
    cmd_versions,
)
from app.cli.documents import add_docs_commands
from app.cli.history import add_history_commands
from app.cli.measuring import answering_options, cmd_calibrate, cmd_eval
from app.cli.providers import add_providers_command
from app.cli.reports import cmd_audit, cmd_stats
from app.cli.serving import add_serve_command
from app.cli.setup import cmd_erase_data, cmd_fetch, cmd_key, cmd_models
from app.cli.teamwork import routing_options
from app.cli.terminal import printable_output
from app.core.config import keys
from app.core.config.key_scrubbing import scrub_keys
from app.core.config.schema import Privacy
from app.core.errors import ConfigError, HearthError
from app.core.paths import user_paths
from app.core.storage import wal
from app.core.system import crash_reports


def cmd_window(args: argparse.Namespace) -> int:
    if args.self_test:
        from app.ui.self_test import run_self_test

        return run_self_test()
    from app.ui.main import run_window

    return run_window()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hearth", description="A private-by-default desktop AI assistant.")
    parser.add_argument("--version", action="version", version=f"hearth {__version__}")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check this installation: open the window, load the default model, answer one prompt "
        "into a temporary database (your own data is not touched), print a JSON report",
    )
    parser.set_defaults(func=cmd_window)
    commands = parser.add_subparsers(title="commands")

    ask = commands.add_parser("ask", help="ask one question and stream the answer")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print one JSON object instead of streaming")
    ask.add_argument("--conversation", type=row_id, help="continue this conversation (its id)")
    ask.add_argument(
        "--privacy",
        type=Privacy,
        choices=list(Privacy),
        help="the privacy policy for this message; a new conversation keeps it as its own",
    )
    ask.add_argument("--quick", action="store_true", help="a quick answer: skip tiers marked slow")
    way = ask.add_mutually_exclusive_group()
    way.add_argument(
        "--plan", action="store_true", help="plan mode: split the request into parts, answer each, join them"
    )
    way.add_argument(
        "--refine", action="store_true", help="the local model drafts, a stronger allowed model refines the draft"
    )
    ask.add_argument(
        "--image",
        "--attach",
        type=Path,
        action="append",
        default=[],
        help="attach an image or a text file (repeatable)",
    )
    ask.add_argument("--docs", action="append", default=[], help="answer from this document collection (repeatable)")
    ask.set_defaults(func=cmd_ask)

    reask = commands.add_parser("reask", help="ask a stronger model to answer a message again")
    reask.add_argument("message", type=row_id, help="the answer's message id (from ask --json)")
    reask.add_argument("--json", action="store_true")
    reask.add_argument("--privacy", type=Privacy, choices=list(Privacy))
    reask.set_defaults(func=cmd_reask)

    models = commands.add_parser("models", help="list configured models and whether each is present")
    models.add_argument("--where", action="store_true", help="print where your own models.toml goes")
    models.add_argument(
        "--wake", action="store_true", help="end the rests of models that failed repeatedly: ask them again now"
    )
    models.add_argument("--hardware", action="store_true", help="RAM, GPUs and the CPU module llama.cpp uses here")
    models.set_defaults(func=cmd_models)

    fetch = commands.add_parser(
        "fetch",
        help="download local models now (the default model if none named); a catalog id (see `hearth catalog`) "
        "is checked for fit, downloaded and added to the tiers",
    )
    fetch.add_argument("model", nargs="*")
    fetch.set_defaults(func=cmd_fetch)
    add_catalog_command(commands)

    evaluate = commands.add_parser("eval", help="run the tiers on labelled questions and measure the escalation")
    evaluate.add_argument(
        "data", type=Path, nargs="?", help="questions, one JSON object per line (see tests/data/README.md)"
    )
    evaluate.add_argument("--tiers", help="comma-separated tier names (default: those the privacy policy allows)")
    answering_options(evaluate)
    evaluate.add_argument("--out", type=Path, default=None, help="folder for report.json and report.png")
    routing_options(evaluate)
    evaluate.add_argument(
        "--no-baseline",
        action="store_true",
        help="skip the plain model (llama-cpp-python, greedy) on the same questions",
    )
    evaluate.set_defaults(func=cmd_eval)

    calibrate = commands.add_parser("calibrate", help="fit a model's confidence on labelled questions")
    calibrate.add_argument("data", type=Path)
    calibrate.add_argument("--model", help="model id (default: the first local model)")
    target = calibrate.add_mutually_exclusive_group()
    target.add_argument("--target-rate", type=float, default=0.3, help="share of messages to escalate")
    target.add_argument(
        "--target-accuracy", type=float, default=None, help="accuracy the answers kept locally should reach"
    )
    calibrate.add_argument(
        "--features",
        choices=["default", "all"],
        default="default",
        help="default: the shipped choice of signals (a probe on the hidden state and three token signals); "
        "all: every token signal and the text checks too (worth it with many hundreds of labelled answers)",
    )
    answering_options(calibrate)
    calibrate.set_defaults(func=cmd_calibrate)

    stats_parser = commands.add_parser("stats", help="escalations, misses, feedback, latency and cost per model")
    stats_parser.add_argument("--json", action="store_true")
    stats_parser.set_defaults(func=cmd_stats)

    feedback = commands.add_parser("feedback", help="rate an answer: thumbs up or down")
    feedback.add_argument("message", type=row_id, help="the answer's message id (from ask --json)")
    feedback.add_argument("rating", choices=["up", "down"])
    feedback.set_defaults(func=cmd_feedback)

    key = commands.add_parser("key", help="store, check or delete an API key (kept in the system keychain)")
    key.add_argument("action", choices=["set", "status", "delete"])
    key.add_argument("name", help='the key\'s name, as in models.toml (key = "NAME")')
    key.set_defaults(func=cmd_key)

    erase = commands.add_parser(
        "erase-data", help="erase all conversations, settings, downloaded models and API keys (uninstall keeps them)"
    )
    erase.add_argument("--yes", action="store_true", help="do not ask first")
    erase.set_defaults(func=cmd_erase_data)

    privacy = commands.add_parser("privacy", help="give one conversation its own privacy policy")
    privacy.add_argument("conversation", type=row_id)
    privacy.add_argument("policy", choices=[p.value for p in Privacy] + ["default"])
    privacy.set_defaults(func=cmd_privacy)

    audit = commands.add_parser("audit", help="everything that was sent off this computer, and why")
    audit.add_argument("--json", action="store_true")
    audit.set_defaults(func=cmd_audit)

    summary = commands.add_parser("summary", help="read or rewrite a conversation's rolling summary")
    summary.add_argument("conversation", type=row_id)
    summary.add_argument("--set", metavar="TEXT", help="replace the summary with your own text")
    summary.set_defaults(func=cmd_summary)

    regenerate = commands.add_parser("regenerate", help="answer again as a new version (the old one stays)")
    regenerate.add_argument("message", type=row_id, help="the answer's message id")
    regenerate.add_argument("--json", action="store_true")
    regenerate.set_defaults(func=cmd_regenerate)

    edit = commands.add_parser("edit", help="edit one of your messages and answer it (a new branch)")
    edit.add_argument("message", type=row_id)
    edit.add_argument("text")
    edit.add_argument("--json", action="store_true")
    edit.set_defaults(func=cmd_edit)

    versions = commands.add_parser("versions", help="list the versions of a message (* on show)")
    versions.add_argument("message", type=row_id)
    versions.set_defaults(func=cmd_versions)

    switch = commands.add_parser("switch", help="show the branch through this version of a message")
    switch.add_argument("message", type=row_id)
    switch.set_defaults(func=cmd_switch)

    add_history_commands(commands)
    add_providers_command(commands)
    add_docs_commands(commands)
    add_serve_command(commands)

    window = commands.add_parser("window", help="open the desktop window (the default)")
    window.set_defaults(func=cmd_window)
    return parser


def run() -> int:
    """The program's entry point: ``main`` with crash reports kept on this computer."""
    paths = user_paths()

    def announce(report: Path) -> None:
        print(
            f"hearth: an unexpected error stopped Hearth. A report was saved in {report}; it stays on this computer.",
            file=sys.stderr,
        )

    crash_reports.install(paths.data, lambda: keys.known_secrets(paths), announce)
    try:
        return main()
    finally:
        crash_reports.uninstall()


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; everything it prints is made printable first (app/cli/terminal.py)."""
    with printable_output():
        args = build_parser().parse_args(argv)
        problem = undecodable_argument(args)
        if problem:
            _error(problem)
            return 2
        try:
            if args.func is not cmd_window:  # the window says it in a dialog
                finding = wal.check(user_paths().database)
                if finding is not None:
                    _error(finding.describe())
            return int(args.func(args))
        except HearthError as exc:
            _error(f"configuration error: {exc}" if isinstance(exc, ConfigError) else str(exc))
            return exc.exit_code
        except KeyboardInterrupt:
            return 130


def _error(message: str) -> None:
    """An error on stderr, without any API key Hearth knows of, whatever echoed it."""
    print(f"hearth: {scrub_keys(message, keys.known_secrets(user_paths()))}", file=sys.stderr)
