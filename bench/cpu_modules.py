"""Choosing llama.cpp's CPU module: a first start (test runs in a child process) against a later one (cached).

    .venv/bin/python -m bench.cpu_modules [--runs 5]

- first start: ``choose_cpu_module`` with an empty cache, as on a fresh install: one child
  process scores every module and computes the test graph with the best (app.core.providers.cpu_probe);
- of which starting the child: the same child with no module to test (Python, ggml, nothing else);
- later start: the same call with the verdicts cached;
- baseline in the same run: llama.cpp's own choice, ``ggml_backend_load_all_from_path`` (CPUID
  scores alone, nothing tested), timed inside a fresh process, and that process's Python start.

Uses the installers' llama.cpp (packaging/llama-wheel.sh cpu). JSON goes to bench/results/cpu_modules.json.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from app.core.providers.cpu_choice import CACHE_FILE, choose_cpu_module, try_modules
from app.core.providers.cpu_ggml import module_file
from bench.report import RESULTS, write_report
from tests.conftest import portable_llama_lib

LLAMA_OWN_CHOICE = """
import ctypes, sys, time
started = time.perf_counter()
ggml = ctypes.CDLL(sys.argv[1])
ggml.ggml_backend_load_all_from_path(sys.argv[2].encode())
print((time.perf_counter() - started) * 1000)
"""


def _ms(action) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def measure(lib: Path, runs: int, scratch: Path) -> dict[str, object]:
    first, cached, child = [], [], []
    for run in range(runs):
        cache = scratch / f"run-{run}" / CACHE_FILE
        first.append(_ms(lambda cache=cache: choose_cpu_module(lib, cache, "bench")))
        cached.append(_ms(lambda cache=cache: choose_cpu_module(lib, cache, "bench")))
        child.append(_ms(lambda: try_modules(lib, [])))
    own = [
        float(
            subprocess.run(
                [sys.executable, "-c", LLAMA_OWN_CHOICE, str(module_file(lib, "libggml")), str(lib)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        for _ in range(runs)
    ]
    python_start = [_ms(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True)) for _ in range(runs)]
    choice = choose_cpu_module(lib, scratch / "run-0" / CACHE_FILE, "bench")
    return {
        "runs": runs,
        "computer": choice.computer,
        "chosen": choice.chosen,
        "skipped": {v.module: v.reason for v in choice.skipped},
        "first_start_ms": {"median": statistics.median(first), "all": first},
        "of_which_starting_the_child_ms": statistics.median(child),
        "later_start_ms": {"median": statistics.median(cached), "all": cached},
        "baseline_llama_cpp_own_choice_ms": statistics.median(own),
        "baseline_python_start_ms": statistics.median(python_start),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hearth-bench-cpu-") as scratch:
        lib = portable_llama_lib(Path(scratch))
        write_report(measure(lib, args.runs, Path(scratch)), RESULTS / "cpu_modules.json")


if __name__ == "__main__":
    main()
