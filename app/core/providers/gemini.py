"""Google's Gemini API (``streamGenerateContent`` with ``alt=sse``).

Roles are "user" and "model"; the system prompt is a ``systemInstruction``;
images are ``inline_data`` parts. When asked (``logprobs = true``), Gemini
returns the chosen tokens' log-probabilities and top alternatives, so its
answers are scored like local ones.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import httpx

from app.core.errors import ProviderRefused
from app.core.nested_text import read_json
from app.core.providers.base import Chunk, Message, Sampling, Usage
from app.core.providers.logprobs import top_k_entropy
from app.core.providers.remote import RemoteProvider, sse_events

TOP_LOGPROBS = 5
FINISH = {"STOP": "stop", "MAX_TOKENS": "length"}
REFUSED = {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII"}


class GeminiProvider(RemoteProvider):
    def request(
        self, messages: Sequence[Message], max_tokens: int, sampling: Sampling | None
    ) -> tuple[str, dict[str, str], dict[str, Any]]:
        system = "\n\n".join(m.content for m in messages if m.role == "system")
        config: dict[str, Any] = {
            "maxOutputTokens": max_tokens,
            "temperature": self.config.temperature
            if sampling is None or sampling.temperature is None
            else sampling.temperature,
        }
        if sampling is not None and sampling.seed is not None:
            config["seed"] = sampling.seed
        if sampling is not None and sampling.stop:
            config["stopSequences"] = list(sampling.stop)
        if self.config.logprobs:
            config["responseLogprobs"] = True
            config["logprobs"] = TOP_LOGPROBS
        body: dict[str, Any] = {
            "contents": [_wire_message(m) for m in messages if m.role != "system"],
            "generationConfig": config,
        }
        if system:
            body["systemInstruction"] = {"parts": [{"text": system}]}
        headers = {"Accept": "text/event-stream"}
        if self._api_key:
            headers["x-goog-api-key"] = self._api_key
        url = f"{self.config.base_url.rstrip('/')}/v1beta/models/{self.config.model}:streamGenerateContent?alt=sse"
        return url, headers, body

    def parse(self, response: httpx.Response, messages: Sequence[Message]) -> Iterator[Chunk]:
        finish: str | None = None
        usage = Usage(0, 0)
        for _, data in sse_events(response):
            try:
                event = read_json(data)
                candidates = event.get("candidates", [])
            except (ValueError, AttributeError):
                raise self.malformed(data) from None
            if "usageMetadata" in event:
                meta = event["usageMetadata"]
                usage = Usage(int(meta.get("promptTokenCount", 0)), int(meta.get("candidatesTokenCount", 0)))
            feedback = event.get("promptFeedback", {})
            if feedback.get("blockReason"):
                raise ProviderRefused(f"Gemini blocked the message ({feedback['blockReason']})", provider=self.model_id)
            for candidate in candidates[:1]:
                text = "".join(part.get("text", "") for part in candidate.get("content", {}).get("parts", []))
                result = candidate.get("logprobsResult", {})
                chosen = result.get("chosenCandidates", [])
                top = result.get("topCandidates", [])
                logprobs = tuple(float(c.get("logProbability", 0.0)) for c in chosen)
                entropies = tuple(
                    top_k_entropy([float(c.get("logProbability", 0.0)) for c in step.get("candidates", [])])
                    for step in top
                )
                if text or logprobs:
                    yield Chunk(text, logprobs, entropies)
                finish = candidate.get("finishReason") or finish
        if finish is None:
            raise self.cut_short()
        if finish in REFUSED:
            raise ProviderRefused(f"Gemini stopped the answer ({finish})", provider=self.model_id)
        yield Chunk("", finish_reason=FINISH.get(finish, finish.lower()), usage=usage)


def _wire_message(message: Message) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    for url in message.images:
        header, data = url.split(",", 1)
        parts.append({"inline_data": {"mime_type": header.removeprefix("data:").split(";")[0], "data": data}})
    parts.append({"text": message.content})
    return {"role": "model" if message.role == "assistant" else "user", "parts": parts}
