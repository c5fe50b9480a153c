"""Huge answers and the window: does it stay responsive while one streams in, and when it is opened again?

    .venv/bin/python -m bench.large_answers [--size 5000000] [--chunk 16] [--kinds code,word,prose]

For each kind of answer (one code block, one unbroken word, Markdown prose) of
``--size`` characters: a self-hosted server on 127.0.0.1 (tests/answer_server.py,
in its own process) streams it in ``--chunk``-character deltas after the real
local model's unsure first answer. A QTimer heartbeat every 5 ms on the UI
thread records the longest gap between beats, on the wall clock and in the UI
thread's own CPU time (the work Hearth did in it, whatever else this computer
runs):

- peer: the same stream read by Hearth's provider on a thread, no window work
  (what the parsing and the GIL alone cost);
- streaming: the window, while the answer streams into it;
- reopening: opening that conversation again, to its first paint.

Also counted: the characters the server sent, the database kept and the window
holds (none lost). Target: max gap < 100 ms. Each kind runs in a fresh process;
JSON goes to bench/results/large_answers.json, with the load average around the run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen" if not os.environ.get("DISPLAY") else "xcb")

from bench.report import RESULTS, write_report  # noqa: E402
from bench.ui import _wait, paint_after  # noqa: E402
from tests.answer_server import LARGE_KINDS, large_answer  # noqa: E402

PROMPT = "Reply with one word: yes."
HEARTBEAT_MS = 5


def _config(model: Path, url: str) -> str:
    return f"""[settings]
privacy = "local-and-self-hosted"
threshold = 1.0
max_answer_tokens = 6000

[[tiers]]
name = "local"
models = ["smol"]

[[tiers]]
name = "self-hosted"
models = ["server"]

[models.smol]
provider = "llama-cpp"
file = "{model}"
n_ctx = 6144
threads = 2
temperature = 0.0

[models.server]
provider = "openai-compatible"
location = "self-hosted"
base_url = "{url}"
model = "big"
n_ctx = 65536
read_timeout = 120.0
"""


class Beats:
    """A QTimer beating every 5 ms on the UI thread.

    Each gap between two beats is measured on the wall clock (what the user feels)
    and split, from the kernel's account of the UI thread (Linux), into the time it
    ran (Hearth's work on it), the time it waited for a CPU (other programs on this
    computer) and the rest, blocked (on the GIL a worker holds, or on I/O).
    """

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.gaps: list[tuple[float, float, float]] = []  # wall, ran, waited for a CPU; ms
        self.timer = QTimer()
        self.timer.setInterval(HEARTBEAT_MS)
        self.timer.timeout.connect(self._beat)

    def start(self) -> None:
        self.gaps.clear()
        self._last = self._now()
        self.timer.start()

    @staticmethod
    def _now() -> tuple[float, float, float]:
        try:
            ran, waited, _ = (int(field) / 1e6 for field in Path("/proc/thread-self/schedstat").read_text().split())
        except OSError:
            ran, waited = time.thread_time() * 1000, 0.0
        return time.perf_counter() * 1000, ran, waited

    def _beat(self) -> None:
        now = self._now()
        self.gaps.append(tuple(b - a for a, b in zip(self._last, now, strict=True)))  # type: ignore[arg-type]
        self._last = now

    def stop(self) -> dict[str, object]:
        self.timer.stop()
        walls = sorted(gap[0] for gap in self.gaps) or [0.0]
        wall, ran, waited = max(self.gaps, default=(0.0, 0.0, 0.0))
        return {
            "beats": len(self.gaps),
            "max_gap_ms": round(wall, 1),
            "p99_gap_ms": round(walls[int(0.99 * (len(walls) - 1))], 1),
            "gaps_over_100_ms": sum(w > 100 for w in walls),
            "max_ui_busy_ms": round(max((gap[1] for gap in self.gaps), default=0.0), 1),
            "longest_gap_split_ms": {
                "ui_thread_ran": round(ran, 1),
                "waited_for_a_cpu": round(waited, 1),
                "blocked": round(max(0.0, wall - ran - waited), 1),
            },
        }


def _arrives(app, condition, timeout: float) -> bool:  # noqa: ANN001
    try:
        _wait(app, condition, timeout)
    except TimeoutError:
        return False
    return True


def _let_run(app, seconds: float) -> None:  # noqa: ANN001
    """The event loop runs for ``seconds`` (what the window does by itself then is measured too)."""
    _arrives(app, lambda: False, seconds)


def _peer(url: str, model: Path) -> dict[str, float]:
    """The provider alone reads the stream on a thread while the UI thread only beats."""
    import httpx

    from app.core.config.schema import RemoteModel
    from app.core.providers.base import Message
    from app.core.providers.openai_compat import OpenAICompatibleProvider
    from app.ui.main import create_app
    from tests.conftest import through_gate

    app = create_app()
    config = RemoteModel(provider="openai-compatible", location="self-hosted", base_url=url, model="big")
    provider = OpenAICompatibleProvider("server", config, httpx.Client())
    received: list[str] = []
    done = threading.Event()

    def read() -> None:
        for chunk in through_gate(provider, [Message("user", PROMPT)], max_tokens=6000):
            received.append(chunk.text)
        done.set()

    beat = Beats()
    beat.start()
    started = time.perf_counter()
    threading.Thread(target=read).start()
    _wait(app, done.is_set, 600)
    return {**beat.stop(), "seconds": round(time.perf_counter() - started, 1), "chars": len("".join(received))}


def child(kind: str, size: int, chunk: int, timeout: float) -> None:
    """One kind, in a fresh process: prints one JSON line."""
    from tests.conftest import fetch_test_model

    model = fetch_test_model()
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.answer_server", kind, str(size), "--chunk", str(chunk)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"{server.stdout.readline().strip()}/{kind}/v1"  # type: ignore[union-attr]
        print(json.dumps(_run(kind, size, url, model, timeout)), flush=True)
    finally:
        server.kill()
        server.wait()


def _run(kind: str, size: int, url: str, model: Path, timeout: float) -> dict[str, object]:
    home = Path(tempfile.mkdtemp(prefix="hearth-bench-large-"))
    (home / "config").mkdir(parents=True)
    (home / "data").mkdir()
    (home / "data" / "welcomed").touch()
    (home / "config" / "models.toml").write_text(_config(model, url))
    os.environ["HEARTH_HOME"] = str(home)
    from PySide6.QtWidgets import QApplication

    from app.core.storage.store import Store
    from app.ui.main import build_window

    sent = len(large_answer(kind, size))
    result: dict[str, object] = {"kind": kind, "chars_sent": sent, "peer_provider_thread": _peer(url, model)}
    app = QApplication.instance()
    window = build_window()
    window.show()
    window.model.prepare()
    _wait(app, lambda: window.model.ready, 300)
    beat = Beats()
    beat.start()
    started = time.perf_counter()
    window.composer.edit.setPlainText(PROMPT)
    window.composer.send_button.click()
    finished = _arrives(app, lambda: window.composer.send_button.isVisible(), timeout)
    streaming = {**beat.stop(), "seconds": round(time.perf_counter() - started, 1), "finished": finished}
    result["window_streaming"] = streaming
    if not finished:
        window.answers.stop()
        _arrives(app, lambda: window.composer.send_button.isVisible(), 60)
    held = len(window.chat.conversation.items()[-1].text)
    store = Store(home / "data" / "hearth.db")
    conversation = store.conversations()[0].id
    kept = len(store.messages(conversation)[-1].content)
    store.close()
    result["chars_in_window"] = held
    result["chars_in_database"] = kept

    window.conversations.new_conversation()
    _let_run(app, 0.3)
    beat.start()
    first_paint = paint_after(app, window.chat.viewport(), lambda: window.conversations.open_conversation(conversation))
    _let_run(app, 0.3)
    result["window_reopening"] = {**beat.stop(), "first_paint_ms": round(first_paint, 1)}
    window.close()
    window.session.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=5_000_000)
    parser.add_argument("--chunk", type=int, default=16, help="characters per streamed delta")
    parser.add_argument("--kinds", default=",".join(LARGE_KINDS))
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds an answer may take to arrive")
    parser.add_argument("--child", choices=LARGE_KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=RESULTS / "large_answers.json")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.size, args.chunk, args.timeout)
        return
    runs = []
    load_before = os.getloadavg()
    for kind in args.kinds.split(","):
        out = subprocess.run(
            [sys.executable, "-m", "bench.large_answers", "--child", kind, "--size", str(args.size)]
            + ["--chunk", str(args.chunk), "--timeout", str(args.timeout)],
            capture_output=True,
            text=True,
        )
        lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
        runs.append(json.loads(lines[-1]) if lines else {"kind": kind, "error": out.stderr[-2000:]})
        print(json.dumps(runs[-1]), flush=True)
    report = {
        "platform": os.environ["QT_QPA_PLATFORM"],
        "load_average": [load_before, os.getloadavg()],  # other programs here lengthen the wall-clock gaps
        "size": args.size,
        "chunk": args.chunk,
        "runs": runs,
    }
    write_report(report, args.out)


if __name__ == "__main__":
    main()
