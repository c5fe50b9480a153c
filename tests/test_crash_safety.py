"""A process killed mid-answer loses at most the last second of text, and the database stays sound."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from app.core.chat import SAVE_EVERY_S
from app.core.store import Store
from tests.conftest import REPO, config_text, write_user_config

KILLS = 3
SLACK_S = 0.3  # one token's time plus scheduling, on top of the save interval


def kill_mid_answer(home: Path, question: str, after_s: float) -> tuple[str, list[tuple[float, int]], float]:
    """Run `hearth ask`, SIGKILL it while it streams; returns printed text, its timeline, and the kill time."""
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "ask", question],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=REPO,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    printed = bytearray()
    timeline: list[tuple[float, int]] = []

    def read() -> None:
        while chunk := os.read(process.stdout.fileno(), 64):
            printed.extend(chunk)
            timeline.append((time.monotonic(), len(printed)))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + 120
    while not timeline or time.monotonic() - timeline[0][0] < after_s:
        assert process.poll() is None, "the answer finished before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    process.wait(10)
    reader.join(10)
    return printed.decode("utf-8", errors="ignore"), timeline, killed_at


def test_sigkill_while_streaming_loses_at_most_the_last_second(hearth_home: Path, model_file: Path):
    # Greedy without a repeat penalty: the small model writes this essay until the token limit.
    text = config_text(model_file, max_answer_tokens=2000)
    write_user_config(hearth_home, text.replace("threads = 2\n", "threads = 2\nrepeat_penalty = 1.0\n"))
    worst = 0
    for kill in range(KILLS):
        printed, timeline, killed_at = kill_mid_answer(
            hearth_home, "Write an extremely long essay about the history of the world.", 1.5 + 0.4 * kill
        )
        store = Store(hearth_home / "data" / "hearth.db")
        try:
            answer = store.messages(store.conversations()[0].id)[-1]
        finally:
            store.close()
        assert answer.role == "assistant" and answer.status == "incomplete"
        assert answer.content and printed.startswith(answer.content)
        lost = len(printed) - len(answer.content)
        recent = [size for at, size in timeline if at <= killed_at - SAVE_EVERY_S - SLACK_S]
        allowed = len(printed) - (recent[-1] if recent else 0)
        assert lost <= allowed, f"kill {kill + 1}: lost {lost} characters, more than the last second's {allowed}"
        worst = max(worst, lost)
        with sqlite3.connect(hearth_home / "data" / "hearth.db") as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    print(f"\n{KILLS} kills, at most {worst} characters lost")
