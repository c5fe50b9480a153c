"""The plain model: the same GGUF through llama-cpp-python's own chat API, greedy, no system prompt.

It is what a user would get from the model without Hearth, and the bar
Hearth must clear on every labelled set: ``hearth eval`` and
bench/cascade.py run it next to the local tier in the same run. Its
confidence is the plainest signal, the mean token log-probability.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from app.core.config.schema import LocalModel
from app.core.evaluation.harness import EvalItem, ItemResult, Progress, judge
from app.core.providers.llama_backends import ensure_loaded

PLAIN_TIER = "plain"


class PlainModel:
    def __init__(self, model_id: str, config: LocalModel, path: Path):
        ensure_loaded()
        import llama_cpp

        self.model_id = model_id
        self._llm: Any = llama_cpp.Llama(
            model_path=str(path),
            n_ctx=config.n_ctx,
            n_threads=config.thread_count(),
            n_gpu_layers=config.gpu_layers,
            logits_all=True,  # the logits of every position, for the answer's log-probabilities
            verbose=False,
        )
        if "tokenizer.chat_template" not in self._llm.metadata:
            # llama-cpp-python would fall back to Llama 2's format; Hearth falls back to ChatML.
            # The same prompt for both, so that the comparison is of everything else.
            self._llm.chat_format = "chatml"

    def answer(self, item: EvalItem, max_tokens: int) -> ItemResult:
        started = time.perf_counter()
        reply = self._llm.create_chat_completion(
            [{"role": "user", "content": item.prompt}], temperature=0.0, max_tokens=max_tokens
        )
        latency_ms = (time.perf_counter() - started) * 1000
        text = reply["choices"][0]["message"]["content"] or ""
        logprobs = self._answer_logprobs(reply["usage"]["prompt_tokens"])
        mean = float(np.mean(logprobs)) if len(logprobs) else None
        return ItemResult(
            id=item.id,
            tier=PLAIN_TIER,
            model=self.model_id,
            answer=text,
            correct=judge(item, text),
            confidence=math.exp(mean) if mean is not None else None,
            latency_ms=latency_ms,
            tokens=reply["usage"]["completion_tokens"],
            error=None,
            signals={"mean_logprob": mean, "n_tokens": len(logprobs)},
        )

    def _answer_logprobs(self, prompt_tokens: int) -> np.ndarray:
        """Each answer token's log-probability, from the logits llama.cpp kept for every position.

        (Asking llama-cpp-python for logprobs instead sorts the whole vocabulary in Python for
        every token, which made the baseline several times slower than the model.) The answer's
        last token was sampled but never evaluated, so it is in only when it ended the answer.
        """
        end = self._llm.n_tokens
        ids = np.asarray(self._llm.input_ids[prompt_tokens:end])
        rows = np.asarray(self._llm.scores[prompt_tokens - 1 : end - 1], dtype=np.float64)
        if not len(ids):
            return np.zeros(0)
        top = rows.max(axis=1, keepdims=True)
        log_total = np.log(np.exp(rows - top).sum(axis=1)) + top[:, 0]
        return rows[np.arange(len(ids)), ids] - log_total

    def close(self) -> None:
        self._llm.close()


def run_plain(
    model: PlainModel, items: Sequence[EvalItem], max_tokens: int, progress: Progress | None = None
) -> Iterator[ItemResult]:
    for number, item in enumerate(items, start=1):
        yield model.answer(item, max_tokens)
        if progress is not None:
            progress(number, len(items), f"{PLAIN_TIER}: {item.id}")
