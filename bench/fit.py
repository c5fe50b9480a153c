"""Fit: Hearth's memory estimate for a model against what llama.cpp really allocates for it.

    .venv/bin/python -m bench.fit [--n-ctx 2048 8192]

For each real model here (SmolLM2-135M, Gemma 3 270M) and each context size, a child
process loads the model with llama.cpp's log on and reports the buffers llama.cpp says
it allocated (model, KV cache, compute, output: "... buffer size = N MiB") and the growth
of its resident memory over loading and one short answer. Hearth's estimate comes from
the same file's header (app/core/catalog/fit.py). The error is (estimate - allocated) /
allocated. JSON goes to bench/results/fit.json.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

from bench.report import RESULTS, write_report
from tests.conftest import fetch_gemma_model, fetch_test_model

MIB = 2**20
BUFFER = re.compile(r"(\w+)\s+(model|KV|compute|output) buffer size =\s+([\d.]+) MiB")
CHILD = """
import json, sys, psutil, llama_cpp
before = psutil.Process().memory_info().rss
llm = llama_cpp.Llama(model_path=sys.argv[1], n_ctx=int(sys.argv[2]), n_threads=1, verbose=True)
llm.create_completion("Say hello.", max_tokens=4)
print(json.dumps({"rss_growth": psutil.Process().memory_info().rss - before}), flush=True)
"""


def allocated(model: Path, n_ctx: int) -> dict[str, float]:
    run = subprocess.run(
        [sys.executable, "-c", CHILD, str(model), str(n_ctx)], capture_output=True, text=True, check=True, timeout=600
    )
    buffers: dict[str, float] = {"model": 0.0, "KV": 0.0, "compute": 0.0, "output": 0.0}
    seen: set[str] = set()
    for line in run.stderr.splitlines():
        match = BUFFER.search(line)
        if match and "~llama_context" not in line:  # the teardown repeats the compute buffer
            key = f"{match.group(1)} {match.group(2)}"
            if key not in seen or match.group(2) == "KV":  # one KV buffer per cache (sliding-window models have two)
                seen.add(key)
                buffers[match.group(2)] += float(match.group(3))
    rss = json.loads(run.stdout.strip().splitlines()[-1])["rss_growth"] / MIB
    return {**buffers, "total": sum(buffers.values()), "rss_growth": rss}


def estimated(model: Path, n_ctx: int) -> dict[str, float]:
    from app.core.catalog.fit import memory_needed
    from app.core.catalog.gguf_header import read_local_header
    from app.core.catalog.shape import shape_of

    header = read_local_header(str(model))
    need = memory_needed(shape_of(header), model.stat().st_size, n_ctx)
    return {
        "weights": need.weights / MIB,
        "KV": need.kv_cache / MIB,
        "compute": need.compute / MIB,
        "total": need.total / MIB,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-ctx", type=int, nargs="+", default=[2048, 8192])
    parser.add_argument("--out", type=Path, default=RESULTS / "fit.json")
    args = parser.parse_args()
    rows = []
    for model in (fetch_test_model(), fetch_gemma_model()):
        for n_ctx in args.n_ctx:
            real, guess = allocated(model, n_ctx), estimated(model, n_ctx)
            rows.append(
                {
                    "model": model.name,
                    "n_ctx": n_ctx,
                    "allocated_mib": {k: round(v, 2) for k, v in real.items()},
                    "estimated_mib": {k: round(v, 2) for k, v in guess.items()},
                    "error_vs_buffers_pct": round(100 * (guess["total"] - real["total"]) / real["total"], 2),
                    "error_vs_rss_growth_pct": round(
                        100 * (guess["total"] - real["rss_growth"]) / real["rss_growth"], 2
                    ),
                    "kv_error_pct": round(100 * (guess["KV"] - real["KV"]) / real["KV"], 2),
                }
            )
    write_report({"rows": rows}, args.out)


if __name__ == "__main__":
    main()
