"""The window's responsiveness: start-up, stalls while an answer streams, and opening a huge conversation.

    .venv/bin/python -m bench.ui [--runs 5] [--tokens 256]

- start-up: from launching a fresh process (the wall clock just before it is
  started) to the window's first paint; models load afterwards, in the
  background. Target < 1 s.
- stalls: a QTimer heartbeat every 5 ms on the UI thread; the longest gap
  between beats while the real model streams an answer into the window.
  Baseline in the same run: the same heartbeat while plain llama_cpp.Llama
  streams the same prompt on a thread with no window work (what the GIL alone
  costs). Target: no gap over 50 ms.
- long conversation: opening a 10,000-message conversation to its first paint.

Uses QT_QPA_PLATFORM=offscreen unless a display is set. JSON goes to bench/results/ui.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen" if not os.environ.get("DISPLAY") else "xcb")

from bench.report import RESULTS, write_report  # noqa: E402

PROMPT = "Write a long story about a lighthouse keeper, a storm and a lost ship."
HEARTBEAT_MS = 5


def _home(model: Path, tokens: int) -> Path:
    home = Path(tempfile.mkdtemp(prefix="hearth-bench-ui-"))
    (home / "config").mkdir(parents=True)
    (home / "data").mkdir()
    (home / "data" / "welcomed").touch()
    (home / "config" / "models.toml").write_text(
        f"""[settings]
privacy = "local-only"
threshold = 0.0
max_answer_tokens = {tokens}

[[tiers]]
name = "local"
models = ["smol"]

[models.smol]
provider = "llama-cpp"
file = "{model}"
threads = 2
temperature = 0.0
"""
    )
    return home


def child_startup() -> None:
    """Runs in a fresh process: imports, builds and paints the window, prints the wall-clock time of that paint."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    from app.ui.main import build_window, create_app

    app = create_app()
    window = build_window()

    class FirstPaint(QObject):
        def eventFilter(self, _watched: QObject, event: QEvent) -> bool:  # noqa: N802
            if event.type() == QEvent.Type.Paint:
                print(json.dumps({"painted_at": time.time()}), flush=True)
                QTimer.singleShot(0, app.quit)
            return False

    painted = FirstPaint()
    window.installEventFilter(painted)
    window.show()
    window.model.prepare()  # started as the app does; not waited for
    app.exec()
    window.close()
    window.session.close()


def startup(home: Path, runs: int) -> dict[str, float]:
    times = []
    for _ in range(runs):
        env = {**os.environ, "HEARTH_HOME": str(home)}
        launched = time.time()
        out = subprocess.run(
            [sys.executable, "-m", "bench.ui", "--child-startup"], env=env, capture_output=True, text=True, check=True
        ).stdout
        times.append(json.loads(out.strip().splitlines()[-1])["painted_at"] - launched)
    return {"median_s": statistics.median(times), "max_s": max(times), "runs": runs}


class Heartbeat:
    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.gaps: list[float] = []
        self._last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setInterval(HEARTBEAT_MS)
        self.timer.timeout.connect(self._beat)

    def _beat(self) -> None:
        now = time.perf_counter()
        self.gaps.append((now - self._last) * 1000)
        self._last = now

    def start(self) -> None:
        self.gaps.clear()
        self.resume()

    def pause(self) -> None:
        """Stop counting, for measurement work of the benchmark's own on the UI thread."""
        self.timer.stop()

    def resume(self) -> None:
        self._last = time.perf_counter()
        self.timer.start()

    def stop(self) -> dict[str, float]:
        self.timer.stop()
        gaps = sorted(self.gaps)
        return {
            "beats": len(gaps),
            "max_gap_ms": gaps[-1],
            "p99_gap_ms": gaps[int(0.99 * (len(gaps) - 1))],
            "gaps_over_50_ms": sum(g > 50 for g in gaps),
        }


def _wait(app, condition, timeout: float = 300.0) -> None:  # noqa: ANN001
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the window did not get there in time")
        app.processEvents()
        time.sleep(0.001)


def paint_after(app, widget, action) -> float:  # noqa: ANN001
    """Milliseconds from ``action()`` to ``widget``'s next paint."""
    from PySide6.QtCore import QEvent, QObject

    painted: list[float] = []

    class Painted(QObject):
        def eventFilter(self, _watched: QObject, event: QEvent) -> bool:  # noqa: N802
            if event.type() == QEvent.Type.Paint:
                painted.append(time.perf_counter())
            return False

    spy = Painted()
    widget.installEventFilter(spy)
    start = time.perf_counter()
    action()
    _wait(app, lambda: bool(painted))
    widget.removeEventFilter(spy)
    return (painted[0] - start) * 1000


def stalls(home: Path, model: Path, tokens: int) -> dict[str, object]:
    os.environ["HEARTH_HOME"] = str(home)
    from llama_cpp import Llama

    from app.ui.main import build_window, create_app

    app = create_app()
    beat = Heartbeat()

    llm = Llama(model_path=str(model), n_ctx=2048, n_threads=2, verbose=False)
    beat.start()
    done = threading.Event()

    def raw() -> None:
        for _ in llm.create_chat_completion(
            [{"role": "user", "content": PROMPT}], max_tokens=tokens, temperature=0.0, stream=True
        ):
            pass
        done.set()

    threading.Thread(target=raw).start()
    _wait(app, done.is_set)
    baseline = beat.stop()
    llm.close()

    window = build_window()
    window.show()
    window.model.prepare()
    _wait(app, lambda: window.model.ready)
    beat.start()
    window.composer.edit.setPlainText(PROMPT)
    window.composer.send_button.click()
    _wait(app, lambda: window.composer.send_button.isVisible())
    hearth = beat.stop()
    answer = window.chat.conversation.items()[-1]
    hearth["tokens"] = answer.badge.tokens if answer.badge else None
    window.close()
    window.session.close()
    return {"baseline_raw_llama_thread": baseline, "hearth_window_streaming": hearth}


def long_conversation(home: Path, messages: int = 10_000) -> dict[str, float]:
    os.environ["HEARTH_HOME"] = str(home)

    from app.core.storage.store import Store
    from app.ui.main import build_window, create_app

    store = Store(home / "data" / "hearth.db")
    conversation = store.create_conversation("Long")
    with store.db.atomic():
        for number in range(messages):
            role = "user" if number % 2 == 0 else "assistant"
            text = f"Message {number}: " + ("some **markdown** text with `code` " * (1 + number % 7))
            store.add_message(conversation, role, text)
    store.close()
    app = create_app()
    window = build_window()
    paint_after(app, window.chat.viewport(), window.show)
    opened = paint_after(app, window.chat.viewport(), lambda: window.conversations.open_conversation(conversation))
    rows = window.chat.conversation.rowCount()
    start = time.perf_counter()
    window.chat.verticalScrollBar().setValue(0)  # scroll to the top: the previous page is read
    app.processEvents()
    earlier = (time.perf_counter() - start) * 1000
    result = {
        "messages": messages,
        "open_to_first_paint_ms": opened,
        "rows_read_at_open": rows,
        "scroll_to_top_reads_page_ms": earlier,
        "rows_after_scrolling_up": window.chat.conversation.rowCount(),
    }
    window.close()
    window.session.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--child-startup", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=RESULTS / "ui.json")
    args = parser.parse_args()
    if args.child_startup:
        child_startup()
        return
    from tests.conftest import fetch_test_model

    model = fetch_test_model()
    report = {
        "platform": os.environ["QT_QPA_PLATFORM"],
        "startup": startup(_home(model, args.tokens), args.runs),
        "stalls": stalls(_home(model, args.tokens), model, args.tokens),
        "long_conversation": long_conversation(_home(model, args.tokens)),
    }
    write_report(report, args.out)


if __name__ == "__main__":
    main()
