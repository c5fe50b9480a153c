"""Anthropic's Messages API, streamed (server-sent events with named event types).

The system prompt travels apart from the messages; images as base64 content
blocks. Anthropic reports no token probabilities, so its answers are not
scored; a mid-stream ``error`` event (e.g. overloaded) is translated like an
HTTP error.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import httpx

from app.core.errors import ProviderOverloaded, ProviderRateLimited, ProviderRefused, ProviderRejected
from app.core.nested_text import read_json
from app.core.providers.base import Chunk, Message, Sampling, Usage
from app.core.providers.remote import RemoteProvider, sse_events

API_VERSION = "2023-06-01"
FINISH = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "stop"}


class AnthropicProvider(RemoteProvider):
    def request(
        self, messages: Sequence[Message], max_tokens: int, sampling: Sampling | None
    ) -> tuple[str, dict[str, str], dict[str, Any]]:
        system = "\n\n".join(m.content for m in messages if m.role == "system")
        body: dict[str, Any] = {
            "model": self.config.model,
            "max_tokens": max_tokens,
            "stream": True,
            "messages": [_wire_message(m) for m in messages if m.role != "system"],
            "temperature": min(
                1.0,
                self.config.temperature if sampling is None or sampling.temperature is None else sampling.temperature,
            ),
        }
        if system:
            body["system"] = system
        if sampling is not None and sampling.stop:
            body["stop_sequences"] = list(sampling.stop)
        headers = {"anthropic-version": API_VERSION, "Accept": "text/event-stream"}
        if self._api_key:
            headers["x-api-key"] = self._api_key
        return self.config.base_url.rstrip("/") + "/v1/messages", headers, body

    def parse(self, response: httpx.Response, messages: Sequence[Message]) -> Iterator[Chunk]:
        prompt_tokens = answer_tokens = 0
        stop: str | None = None
        finished = False
        for name, data in sse_events(response):
            try:
                event = read_json(data)
            except ValueError:
                raise self.malformed(data) from None
            kind = event.get("type", name) if isinstance(event, dict) else None
            if kind == "message_start":
                usage = event.get("message", {}).get("usage", {})
                prompt_tokens = int(usage.get("input_tokens", 0))
                answer_tokens = int(usage.get("output_tokens", 0))
            elif kind == "content_block_delta":
                delta = event.get("delta", {})
                if delta.get("type") == "text_delta" and delta.get("text"):
                    yield Chunk(delta["text"])
            elif kind == "message_delta":
                stop = event.get("delta", {}).get("stop_reason") or stop
                answer_tokens = int(event.get("usage", {}).get("output_tokens", answer_tokens))
            elif kind == "message_stop":
                finished = True
                break
            elif kind == "error":
                raise self._stream_error(event.get("error", {}))
            elif kind not in ("content_block_start", "content_block_stop", "ping"):
                if kind is None:
                    raise self.malformed(data)
        if not finished:
            raise self.cut_short()
        if stop == "refusal":
            raise ProviderRefused("Claude declined to answer this message", provider=self.model_id)
        yield Chunk("", finish_reason=FINISH.get(stop or "", stop or "stop"), usage=Usage(prompt_tokens, answer_tokens))

    def _stream_error(self, error: dict[str, Any]) -> Exception:
        message = str(error.get("message", "unknown error"))
        kind = error.get("type")
        if kind == "overloaded_error":
            return ProviderOverloaded(f"the service is overloaded ({message})", provider=self.model_id)
        if kind == "rate_limit_error":
            return ProviderRateLimited(f"rate limited ({message})", provider=self.model_id, retry_after=None)
        return ProviderRejected(f"{kind}: {message}", provider=self.model_id, retryable=kind == "api_error")


def _wire_message(message: Message) -> dict[str, Any]:
    if not message.images:
        return {"role": message.role, "content": message.content}
    blocks: list[dict[str, Any]] = []
    for url in message.images:
        header, data = url.split(",", 1)
        media_type = header.removeprefix("data:").split(";")[0]
        blocks.append({"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}})
    blocks.append({"type": "text", "text": message.content})
    return {"role": message.role, "content": blocks}
