"""Time to the first token in a long conversation, by its length.

    .venv/bin/python -m bench.first_token [--sizes 200,10000,100000] [--runs 3]

For each size, a Hearth home with one conversation of that many messages
(bench/store.py's generated sentences) and the real default model; then
``ChatService.send`` of a new question, as the window and ``hearth ask`` do,
timed to two points: when the local model is handed its prompt (everything
Hearth does before the model works: reading the thread, fitting the context)
and when the first token arrives. Every size fills the 2,048-token window and
no run reuses the previous one's prompt cache, so the model's own work is the
same for all; what differs is Hearth's.

Target: the time to the prompt does not grow with the conversation's length.
JSON goes to bench/results/first_token.json.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from app.core.answers import TextDelta
from app.core.session import open_session
from bench.report import RESULTS, write_report
from bench.store import build, vocabulary
from tests.conftest import config_text, fetch_test_model, write_user_config


def measure(home: Path, size: int, runs: int) -> dict[str, Any]:
    os.environ["HEARTH_HOME"] = str(home)
    write_user_config(home, config_text(fetch_test_model()))
    (home / "data").mkdir(parents=True, exist_ok=True)
    rng = random.Random(size)
    build(home / "data" / "hearth.db", size, 1, rng, vocabulary(rng))
    session = open_session()
    local = session.registry.local()
    local.load()
    handed: list[float] = []
    real_stream = local.stream

    def stream(messages, *, max_tokens, sampling=None):  # noqa: ANN001, ANN202 - the provider's own signature
        handed.append(time.perf_counter())
        return real_stream(messages, max_tokens=max_tokens, sampling=sampling)

    local.stream = stream  # type: ignore[method-assign]
    to_prompt, to_token = [], []
    try:
        for run in range(runs):
            local._llm.reset()  # no prompt prefix kept from the last run: each evaluates its whole window
            handed.clear()
            started = time.perf_counter()
            events = session.chat.send(1, f"Question {run}: what did we just talk about?")
            for event in events:
                if isinstance(event, TextDelta):
                    to_token.append(time.perf_counter() - started)
                    break
            events.close()
            to_prompt.append(handed[0] - started)
    finally:
        session.close()
    return {
        "messages": size,
        "to_prompt_s": round(statistics.median(to_prompt), 3),
        "to_first_token_s": round(statistics.median(to_token), 3),
        "runs": runs,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="200,10000,100000")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    rows = []
    for size in (int(part) for part in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix="hearth-bench-") as folder:
            rows.append(measure(Path(folder), size, args.runs))
            print(rows[-1], flush=True)
    write_report({"sizes": rows}, RESULTS / "first_token.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
