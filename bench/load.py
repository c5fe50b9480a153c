"""Load: a 10,000-message conversation, 5,000 conversations in the sidebar, 20 answers back to back.

    .venv/bin/python -m bench.load [--answers 20] [--tokens 96]

- memory: the process's RSS before the first of N answers streamed into the
  window, after each one, and the growth over the second half (after caches
  have warmed up); baseline in the same run: the same N answers from plain
  llama_cpp.Llama on the same model and threads, no window, no database.
- responsiveness: the UI heartbeat (bench/ui.py) while all N answers stream,
  and while the sidebar with 5,000 conversations is searched and scrolled.
- 10,000 messages: bench/ui.py's long-conversation measurement, run here again.

Uses QT_QPA_PLATFORM=offscreen unless a display is set. JSON goes to bench/results/load.json.
"""

from __future__ import annotations

import argparse
import gc
import os
import time
from pathlib import Path

import psutil

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen" if not os.environ.get("DISPLAY") else "xcb")

from bench.report import RESULTS, write_report  # noqa: E402
from bench.ui import Heartbeat, _home, _wait, long_conversation  # noqa: E402

PROMPTS = [f"In two sentences, tell me one fact about the number {n}." for n in range(1, 101)]
MB = 1024 * 1024


def rss_mb() -> float:
    gc.collect()
    return psutil.Process().memory_info().rss / MB


def _growth(series: list[float]) -> float:
    """MB per answer over the second half: a least-squares slope."""
    half = series[len(series) // 2 :]
    xs = range(len(half))
    mean_x, mean_y = sum(xs) / len(half), sum(half) / len(half)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, half, strict=True)) / sum((x - mean_x) ** 2 for x in xs)


def raw_answers(model: Path, answers: int, tokens: int) -> dict[str, object]:
    from llama_cpp import Llama

    llm = Llama(model_path=str(model), n_ctx=2048, n_threads=2, verbose=False)
    series = [rss_mb()]
    for prompt in PROMPTS[:answers]:
        for _ in llm.create_chat_completion(
            [{"role": "user", "content": prompt}], max_tokens=tokens, temperature=0.0, stream=True
        ):
            pass
        series.append(rss_mb())
    llm.close()
    return {"rss_mb": series, "growth_mb_per_answer_second_half": _growth(series[1:])}


def window_answers(home: Path, answers: int) -> dict[str, object]:
    os.environ["HEARTH_HOME"] = str(home)
    from app.ui.composer import Draft
    from app.ui.main import build_window, create_app

    app = create_app()
    window = build_window()
    window.show()
    window.model.prepare()
    _wait(app, lambda: window.model.ready)
    series = [rss_mb()]
    beat = Heartbeat()
    beat.start()
    started = time.perf_counter()
    for prompt in PROMPTS[:answers]:
        window.answers.send(Draft(prompt))
        _wait(app, lambda: window.composer.send_button.isVisible())
        beat.pause()  # the measurement's own garbage collection is not the window's stall
        series.append(rss_mb())
        beat.resume()
    elapsed = time.perf_counter() - started
    heartbeat = beat.stop()
    rows = window.chat.conversation.rowCount()
    window.close()
    window.session.close()
    return {
        "answers": answers,
        "rows_on_screen": rows,
        "seconds": elapsed,
        "rss_mb": series,
        "growth_mb_per_answer_second_half": _growth(series[1:]),
        "heartbeat": heartbeat,
    }


def many_conversations(home: Path, count: int = 5000) -> dict[str, object]:
    os.environ["HEARTH_HOME"] = str(home)
    from app.core.storage.store import Store
    from app.ui.main import build_window, create_app

    store = Store(home / "data" / "hearth.db")
    with store.db.atomic():
        for number in range(count):
            conversation = store.create_conversation(f"Conversation {number}: lorem ipsum {number % 97}")
            store.add_message(conversation, "user", f"Question {number} about lorem ipsum and topic {number % 97}")
            store.add_message(conversation, "assistant", f"Answer {number}: dolor sit amet.")
    store.close()
    app = create_app()
    started = time.perf_counter()
    window = build_window()
    window.show()
    app.processEvents()
    shown = (time.perf_counter() - started) * 1000
    sidebar = window.sidebar
    beat = Heartbeat()
    beat.start()
    started = time.perf_counter()
    window.conversations.search("lorem 42")
    app.processEvents()
    search_ms = (time.perf_counter() - started) * 1000
    hits = sidebar.list.count()
    window.conversations.search("")
    app.processEvents()
    listed = sidebar.list.count()
    bar = sidebar.list.verticalScrollBar()
    started = time.perf_counter()
    for value in range(bar.minimum(), bar.maximum() + 1, max(1, bar.maximum() // 200)):
        bar.setValue(value)
        app.processEvents()
    scroll_ms = (time.perf_counter() - started) * 1000
    result = {
        "conversations": count,
        "window_built_and_shown_ms": shown,
        "search_ms": search_ms,
        "search_hits": hits,
        "listed": listed,
        "scroll_through_all_ms": scroll_ms,
        "heartbeat": beat.stop(),
    }
    window.close()
    window.session.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--answers", type=int, default=20)
    parser.add_argument("--tokens", type=int, default=96)
    parser.add_argument("--out", type=Path, default=RESULTS / "load.json")
    args = parser.parse_args()
    from tests.conftest import fetch_test_model

    model = fetch_test_model()
    report = {
        "platform": os.environ["QT_QPA_PLATFORM"],
        "baseline_raw_llama": raw_answers(model, args.answers, args.tokens),
        "window_answers": window_answers(_home(model, args.tokens), args.answers),
        "sidebar": many_conversations(_home(model, args.tokens)),
        "long_conversation": long_conversation(_home(model, args.tokens)),
    }
    write_report(report, args.out)


if __name__ == "__main__":
    main()
