"""``hearth serve``: Hearth's cascade as an OpenAI-compatible API for other programs on this computer."""

from __future__ import annotations

import argparse
import sys

from app.cli.terminal import ProgressPrinter
from app.core.api import history
from app.core.api.access import server_key
from app.core.api.answering import CASCADE_MODEL, ApiAnswers
from app.core.api.http import create_app
from app.core.api.server import ApiServer, exposure
from app.core.session import open_session


def add_serve_command(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    serve = commands.add_parser("serve", help="serve Hearth as an OpenAI-compatible API on this computer")
    serve.add_argument("--host", help="the address to listen on (default 127.0.0.1: this computer only)")
    serve.add_argument("--port", type=int, help="the port (default 7373, or [server] port in models.toml)")
    serve.add_argument("--print-key", action="store_true", help="print the API key and exit (for scripts)")
    serve.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    key = server_key()
    if args.print_key:
        print(key.value)
        return 0
    session = open_session(progress=ProgressPrinter())  # no window: whatever needs consent is refused (409)
    try:
        settings = session.config.server
        host = args.host or settings.host
        answers = ApiAnswers(session.chat, session.open_store)
        server = ApiServer(create_app(answers, lambda: key, settings.cors_origins), host, args.port or settings.port)
        warning = exposure(host)
        if warning:
            print(f"hearth: warning: {warning}", file=sys.stderr)
        print(
            f"Hearth's API is at {server.address} (model '{CASCADE_MODEL}' is the cascade; "
            f"`GET /v1/models` lists the others).\nThe key is in {key.where}; print it with "
            "`hearth serve --print-key`. Programs send it as 'Authorization: Bearer <key>'.\n"
            f"{history.described(answers.keep_history)}\n"
            "Requests that would need your consent are refused here: open Hearth's window to be asked. "
            "Press Ctrl+C to stop.",
            file=sys.stderr,
            flush=True,
        )
        server.run()
        answers.stop_all()
    finally:
        session.close()
    return 0
