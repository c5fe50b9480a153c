"""Hearth's local path against plain llama-cpp-python, in the same run.

    .venv/bin/python -m bench.local_path [--reps 9] [--max-tokens 256] [--threads 2]

Both sides load the same GGUF with the same context size and threads, answer
the same prompt greedily (temperature 0, same repeat penalty) and stream it:

- baseline: ``llama_cpp.Llama.create_chat_completion(stream=True)``
- hearth:   ``Cascade.run`` with the local tier only — Hearth's provider
            with per-token log-probabilities and confidence scoring
- hearth_chat: ``ChatService.send`` — the same plus context building and
            saving the conversation to SQLite

Runs are interleaved and every run starts from a cold prompt (the KV cache is
reset), so prompt processing is measured too. Reported: medians of time to
first token (ms) and decode speed (tokens/s after the first token), and the
ratios the targets are set on. JSON goes to bench/results/local_path.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import llama_cpp

from app.core.answers import Finished, TextDelta
from app.core.confidence.calibration import Scorer
from app.core.config.load import default_config_file, load_config_file
from app.core.config.schema import Config, LocalModel, Privacy, Settings, Tier
from app.core.conversation.chat import ChatService
from app.core.models.fetch import ensure_model_file
from app.core.paths import user_paths
from app.core.privacy.gate import Passage
from app.core.providers.base import Message
from app.core.providers.llama_cpp import LlamaCppProvider
from app.core.providers.registry import ProviderRegistry
from app.core.routing.cascade import Cascade, TierPlan
from app.core.storage.store import Store
from bench.report import RESULTS

SYSTEM = "You are Hearth, a helpful and concise assistant."
QUESTION = "Write a short story of about 200 words about a lighthouse keeper who finds a message in a bottle."
REPEAT_PENALTY = 1.1


def default_model_file() -> Path:
    config = load_config_file(default_config_file())
    model = config.models[config.tiers[0].models[0]]
    assert isinstance(model, LocalModel)
    return ensure_model_file(model, user_paths().models)  # where the app keeps it


class Timer:
    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.first: float | None = None
        self.tokens = 0

    def token(self, text_seen: bool) -> None:
        self.tokens += 1
        if self.first is None and text_seen:
            self.first = time.perf_counter()

    def result(self, tokens: int | None = None) -> dict[str, float]:
        """``tokens``: the answer's own count, where one event may carry several tokens
        (ChatService passes text on in batches, once it is saved)."""
        end = time.perf_counter()
        assert self.first is not None
        decode = end - self.first
        tokens = self.tokens if tokens is None else tokens
        return {
            "ttft_ms": (self.first - self.start) * 1000,
            "total_ms": (end - self.start) * 1000,
            "tokens": tokens,
            "decode_tok_s": (tokens - 1) / decode if decode > 0 else float("nan"),
        }


def run_baseline(llm: llama_cpp.Llama, max_tokens: int) -> dict[str, float]:
    llm.reset()
    timer = Timer()
    stream = llm.create_chat_completion(
        [{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTION}],
        stream=True,
        temperature=0.0,
        repeat_penalty=REPEAT_PENALTY,
        max_tokens=max_tokens,
    )
    for chunk in stream:
        if chunk["choices"][0]["delta"].get("content"):
            timer.token(True)
    return timer.result()


def run_hearth(provider: LlamaCppProvider, max_tokens: int, passage: Passage) -> dict[str, float]:
    provider._llm.reset()  # a cold prompt, like the baseline
    cascade = Cascade(
        [TierPlan("local", [provider])], scorer=Scorer(0.0), passage=passage, max_answer_tokens=max_tokens
    )
    timer = Timer()
    answer = None
    for event in cascade.run(lambda _: [Message("system", SYSTEM), Message("user", QUESTION)]):
        if isinstance(event, TextDelta):
            timer.token(True)
        elif isinstance(event, Finished):
            answer = event.answer
    assert answer is not None and answer.confidence is not None
    result = timer.result(answer.tokens_out)
    result["confidence"] = answer.confidence
    return result


def run_chat(chat: ChatService, provider: LlamaCppProvider, max_tokens: int) -> dict[str, float]:
    provider._llm.reset()
    timer = Timer()
    answer = None
    for event in chat.send(None, QUESTION):
        if isinstance(event, TextDelta):
            timer.token(True)
        elif isinstance(event, Finished):
            answer = event.answer
    assert answer is not None
    return timer.result(answer.tokens_out)


def summary(runs: list[dict[str, float]]) -> dict[str, float]:
    return {
        "ttft_ms_median": statistics.median(r["ttft_ms"] for r in runs),
        "decode_tok_s_median": statistics.median(r["decode_tok_s"] for r in runs),
        "total_ms_median": statistics.median(r["total_ms"] for r in runs),
        "tokens_median": statistics.median(r["tokens"] for r in runs),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=9)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=RESULTS / "local_path.json")
    args = parser.parse_args(argv)

    model_file = args.model or default_model_file()
    n_ctx = 2048
    baseline = llama_cpp.Llama(
        str(model_file), n_ctx=n_ctx, n_threads=args.threads, verbose=False, chat_format="chat_template.default"
    )
    local = LocalModel(
        provider="llama-cpp",
        file=str(model_file),
        n_ctx=n_ctx,
        threads=args.threads,
        temperature=0.0,
        repeat_penalty=REPEAT_PENALTY,
    )
    config = Config(
        settings=Settings(
            privacy=Privacy.LOCAL_ONLY, threshold=0.0, max_answer_tokens=args.max_tokens, system_prompt=SYSTEM
        ),
        tiers=[Tier(name="local", models=["bench"])],
        models={"bench": local},
    )
    workdir = Path(tempfile.mkdtemp(prefix="hearth-bench-"))
    registry = ProviderRegistry(config, workdir)
    provider = registry.local()
    provider.load()
    chat = ChatService(config, registry, lambda: Store(workdir / "bench.db"))
    store = Store(workdir / "bench.db")
    passage = chat.gate.passage(store, Privacy.LOCAL_ONLY)

    sides = {
        "baseline": lambda: run_baseline(baseline, args.max_tokens),
        "hearth": lambda: run_hearth(provider, args.max_tokens, passage),
        "hearth_chat": lambda: run_chat(chat, provider, args.max_tokens),
    }
    for run in sides.values():  # warm-up
        run()
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in sides}
    for _ in range(args.reps):
        for name, run in sides.items():
            runs[name].append(run())
    baseline.close()
    store.close()
    registry.close()

    results = {name: summary(side) for name, side in runs.items()}
    base = results["baseline"]
    comparison = {
        name: {
            "decode_tok_s_ratio": results[name]["decode_tok_s_median"] / base["decode_tok_s_median"],
            "ttft_overhead_ms": results[name]["ttft_ms_median"] - base["ttft_ms_median"],
        }
        for name in ("hearth", "hearth_chat")
    }
    targets = {"decode_tok_s_ratio_min": 0.95, "ttft_overhead_ms_max": 30.0}
    report = {
        "benchmark": "local_path",
        "model": model_file.name,
        "threads": args.threads,
        "n_ctx": n_ctx,
        "max_tokens": args.max_tokens,
        "reps": args.reps,
        "prompt": {"system": SYSTEM, "user": QUESTION},
        "machine": {
            "platform": platform.platform(),
            "python": sys.version.split()[0],
            "cpus": os.cpu_count(),
            "llama_cpp_python": llama_cpp.__version__,
        },
        "results": results,
        "comparison": comparison,
        "targets": targets,
        "targets_met": {
            name: values["decode_tok_s_ratio"] >= targets["decode_tok_s_ratio_min"]
            and values["ttft_overhead_ms"] <= targets["ttft_overhead_ms_max"]
            for name, values in comparison.items()
        },
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(json.dumps({k: report[k] for k in ("results", "comparison", "targets_met")}, indent=2))
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
