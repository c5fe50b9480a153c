"""Hearth's local API against llama-cpp-python's own server, on the same model, with the `openai` client.

    .venv/bin/python -m bench.api [--threads 1] [--runs 3] [--tokens 64] [--concurrent-tokens 16]

Both servers run the real default model (SmolLM2-135M) with the same threads (for the prompt too), context and
greedy decoding (temperature 0, the same repeat penalty); each request carries the same
system prompt and question, so both evaluate the same prompt. llama_cpp.server runs with
``--interrupt_requests False`` so that, like Hearth, it finishes each request it accepted.

Measured, with the runs of the two servers interleaved (the machine's load hits both alike):
- time to first token (request sent → first text chunk) and tokens/s (first → last chunk)
  for one client;
- for 1, 4 and 16 concurrent clients (16 requests in all): total throughput (tokens/s over
  the wall time), p95 latency, and whether every request got exactly one complete answer.

Targets (issue 18): single-client tokens/s ≥ 0.95× llama_cpp.server, TTFT overhead ≤ 20 ms,
no request lost or duplicated under 16 clients. JSON goes to bench/results/api.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import openai

from bench.report import RESULTS, write_report
from tests.conftest import REPO, config_text, fetch_test_model, free_port, wait_for_server, write_user_config

KEY = "hearth-bench-key"
SYSTEM = "You are Hearth, a helpful and concise assistant."  # as in the configuration: both see one prompt
QUESTION = "Write a short story about a lighthouse keeper and a storm."
CONCURRENCY = (1, 4, 16)
REQUESTS = 16


def hearth_config(model: Path, threads: int) -> str:
    """The tests' configuration (greedy, n_ctx 2048, local only: nothing above the local tier may answer)."""
    return config_text(model).replace("threads = 2", f"threads = {threads}") + f"\n[server]\nqueue = {REQUESTS}\n"


@contextmanager
def running(command: list[str], env: dict[str, str], url: str, log: Path) -> Iterator[None]:
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        problem = wait_for_server(process, url, log)
        if problem:
            raise SystemExit(f"{command[2]} {problem}")
        yield
    finally:
        process.terminate()
        process.wait(timeout=20)


def one_answer(client: openai.OpenAI, model: str, tokens: int, nonce: int) -> dict[str, Any]:
    """Stream one answer; times in seconds from the moment the request was sent."""
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": f"{QUESTION} ({nonce})"}]
    started = time.perf_counter()
    first = last = None
    chunks, finished, ids = 0, 0, set()
    stream = client.chat.completions.create(
        model=model, messages=messages, stream=True, max_tokens=tokens, temperature=0
    )
    for chunk in stream:
        ids.add(chunk.id)
        if chunk.choices and chunk.choices[0].delta.content:
            now = time.perf_counter()
            first = first or now
            last = now
            chunks += 1
        if chunk.choices and chunk.choices[0].finish_reason:
            finished += 1
    assert first is not None and last is not None
    return {
        "ttft_s": first - started,
        "latency_s": last - started,
        "tokens": chunks,
        "tokens_per_s": (chunks - 1) / (last - first) if last > first else 0.0,
        "finished": finished,
        "ids": ids,
    }


def concurrent(client: openai.OpenAI, model: str, clients: int, tokens: int) -> dict[str, Any]:
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(lambda n: one_answer(client, model, tokens, n), range(REQUESTS)))
    wall = time.perf_counter() - started
    latencies = sorted(r["latency_s"] for r in results)
    ids = [i for r in results for i in r["ids"]]
    return {
        "clients": clients,
        "requests": REQUESTS,
        "answered_once": sum(1 for r in results if r["finished"] == 1),
        "duplicate_ids": len(ids) - len(set(ids)),
        "throughput_tokens_per_s": round(sum(r["tokens"] for r in results) / wall, 2),
        "p95_latency_s": round(latencies[int(0.95 * (len(latencies) - 1) + 0.5)], 3),
        "wall_s": round(wall, 2),
    }


def _progress(line: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {line}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=64, help="answer tokens for the single-client runs")
    parser.add_argument("--concurrent-tokens", type=int, default=16)
    parser.add_argument("--out", type=Path, default=RESULTS / "api.json")
    args = parser.parse_args(argv)
    model = fetch_test_model()
    home = Path(tempfile.mkdtemp(prefix="hearth-bench-api-"))
    write_user_config(home, hearth_config(model, args.threads))
    env = {**os.environ, "HEARTH_HOME": str(home), "HEARTH_API_KEY": KEY, "PYTHONPATH": str(REPO)}
    llama_port, hearth_port = free_port(), free_port()
    llama = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
        "--port", str(llama_port), "--n_ctx", "2048", "--n_threads", str(args.threads),
        "--n_threads_batch", str(args.threads),
        "--model_alias", "smollm2-135m", "--interrupt_requests", "False", "--verbose", "False",
    ]  # fmt: skip
    hearth = [sys.executable, "-m", "app", "serve", "--port", str(hearth_port)]
    peers = {
        "llama_cpp.server": (f"http://127.0.0.1:{llama_port}/v1", "smollm2-135m"),
        "hearth": (f"http://127.0.0.1:{hearth_port}/v1", "hearth"),
    }
    with (
        running(llama, env, f"{peers['llama_cpp.server'][0]}/models", home / "llama.log"),
        running(hearth, env, f"{peers['hearth'][0]}/models", home / "hearth.log"),
    ):
        clients = {name: openai.OpenAI(base_url=url, api_key=KEY, max_retries=0) for name, (url, _) in peers.items()}
        for name, (_, model_id) in peers.items():  # warm up: load the model, fill caches
            one_answer(clients[name], model_id, 8, -1)
        single: dict[str, list[dict[str, Any]]] = {name: [] for name in peers}
        for run in range(args.runs):
            for name, (_, model_id) in peers.items():
                single[name].append(one_answer(clients[name], model_id, args.tokens, run))
                _progress(f"single client, run {run + 1}: {name} {single[name][-1]['tokens_per_s']:.1f} tokens/s")
        crowds: dict[str, list[dict[str, Any]]] = {name: [] for name in peers}
        for count in CONCURRENCY:
            for name, (_, model_id) in peers.items():
                crowds[name].append(concurrent(clients[name], model_id, count, args.concurrent_tokens))
                _progress(f"{count} clients: {name} {crowds[name][-1]}")
    report: dict[str, Any] = {"threads": args.threads, "runs": args.runs, "tokens": args.tokens, "servers": {}}
    for name in peers:
        runs = single[name]
        report["servers"][name] = {
            "ttft_ms_median": round(statistics.median(r["ttft_s"] for r in runs) * 1000, 1),
            "tokens_per_s_median": round(statistics.median(r["tokens_per_s"] for r in runs), 2),
            "tokens_median": statistics.median(r["tokens"] for r in runs),
            "concurrency": crowds[name],
        }
    ours, theirs = report["servers"]["hearth"], report["servers"]["llama_cpp.server"]
    speed = ours["tokens_per_s_median"] / theirs["tokens_per_s_median"]
    overhead = ours["ttft_ms_median"] - theirs["ttft_ms_median"]
    sixteen = ours["concurrency"][-1]
    report["targets"] = {
        "tokens_per_s_ratio": round(speed, 3),
        "tokens_per_s_ratio_met": speed >= 0.95,
        "ttft_overhead_ms": round(overhead, 1),
        "ttft_overhead_met": overhead <= 20,
        "sixteen_clients_none_lost_or_duplicated": sixteen["answered_once"] == REQUESTS
        and sixteen["duplicate_ids"] == 0,
    }
    write_report(report, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
