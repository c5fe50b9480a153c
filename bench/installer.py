"""The frozen program against the source tree: start-up to a window, model load, first answer.

    .venv/bin/python -m bench.installer [build/linux/hearth/hearth] [--runs 5]

Each run is a fresh process with ``--self-test`` (empty temporary home, the
default model, one prompt): the report's launch_to_window_s counts from the
kernel's start time of the process to the window's first paint, so the frozen
program's unpacking and imports are included. The same runs of
``python -m app --self-test`` from the source tree are the baseline.

With a display (``DISPLAY`` set, for example Xvfb), the frozen program is also
started plainly and timed until xdotool sees its window mapped: the time to a
window a person could see. JSON goes to bench/results/installer.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.report import RESULTS, write_report

REPO = Path(__file__).resolve().parent.parent
MEASURED = ("launch_to_window_s", "model_load_s", "answer_s")


def self_tests(command: list[str], runs: int, env: dict[str, str]) -> dict[str, object]:
    reports = []
    for _ in range(runs):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        report = json.loads(done.stdout.strip().splitlines()[-1])
        if not report["ok"]:
            raise SystemExit(f"{command[0]} failed its self-test: {report['error']}")
        reports.append(report)
    summary: dict[str, object] = {
        name: {"median": statistics.median(r[name] for r in reports), "max": max(r[name] for r in reports)}
        for name in MEASURED
    }
    summary["llama_backends"] = reports[0]["llama_backends"]
    summary["model_came_from"] = reports[0]["model_came_from"]
    return summary


def visible_window(program: Path, runs: int, env: dict[str, str]) -> dict[str, float]:
    """Launch to a mapped, visible window, as xdotool sees it on the display."""
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as home:
            started = time.monotonic()
            process = subprocess.Popen(
                [str(program)], env={**env, "HEARTH_HOME": home}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            try:
                # xdotool's own --sync waits in half-second steps; ask every 20 ms instead.
                while subprocess.run(
                    ["xdotool", "search", "--onlyvisible", "--name", "^Hearth"], env=env, capture_output=True
                ).returncode:
                    if time.monotonic() - started > 60:
                        raise SystemExit(f"{program} showed no window within a minute")
                    time.sleep(0.02)
                times.append(time.monotonic() - started)
            finally:
                process.terminate()
                process.wait(30)
    return {"median": statistics.median(times), "max": max(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("program", type=Path, nargs="?", default=REPO / "build" / "linux" / "hearth" / "hearth")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=RESULTS / "installer.json")
    args = parser.parse_args()
    if not args.program.exists():
        raise SystemExit(f"{args.program} does not exist: build it with packaging/linux/build.sh")
    offscreen = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    # The source tree borrows the user's copy of the model: give it the frozen program's.
    shipped = next(args.program.parent.rglob("*.gguf"))
    source_home = Path(tempfile.mkdtemp(prefix="hearth-bench-installer-"))
    (source_home / "data" / "models").mkdir(parents=True)
    (source_home / "data" / "models" / shipped.name).symlink_to(shipped)
    report: dict[str, object] = {
        "runs": args.runs,
        "frozen": self_tests([str(args.program), "--self-test"], args.runs, offscreen),
        "source_tree": self_tests(
            [sys.executable, "-m", "app", "--self-test"], args.runs, {**offscreen, "HEARTH_HOME": str(source_home)}
        ),
    }
    shutil.rmtree(source_home)
    if os.environ.get("DISPLAY") and shutil.which("xdotool"):
        report["frozen_visible_window_s"] = visible_window(args.program, args.runs, dict(os.environ))
    write_report(report, args.out)


if __name__ == "__main__":
    main()
