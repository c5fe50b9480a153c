"""Any OpenAI-compatible chat completions endpoint, streamed over SSE.

Self-hosted servers (llama-server, Ollama, vLLM, LM Studio) and cloud services
(OpenAI, DeepSeek, OpenRouter, Groq, Mistral, Together) speak the same wire format.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from app.core.errors import ProviderRefused
from app.core.providers.base import Chunk, Message, Sampling, Usage
from app.core.providers.logprobs import top_k_entropy, top_k_margin
from app.core.providers.remote import RemoteProvider, sse_events

TOP_LOGPROBS = 5


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Alternative(_Loose):
    token: str = ""
    logprob: float


class _TokenLogprob(_Loose):
    token: str = ""
    logprob: float
    top_logprobs: list[_Alternative] = []


class _ChoiceLogprobs(_Loose):
    content: list[_TokenLogprob] | None = None


class _Delta(_Loose):
    content: str | None = None
    refusal: str | None = None


class _Choice(_Loose):
    delta: _Delta = _Delta()
    logprobs: _ChoiceLogprobs | None = None
    finish_reason: str | None = None


class _Usage(_Loose):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class _StreamEvent(_Loose):
    choices: list[_Choice] = []
    usage: _Usage | None = None


class OpenAICompatibleProvider(RemoteProvider):
    def request(
        self, messages: Sequence[Message], max_tokens: int, sampling: Sampling | None
    ) -> tuple[str, dict[str, str], dict[str, Any]]:
        body: dict[str, Any] = {
            "model": self.config.model,
            "messages": [_wire_message(m) for m in messages],
            "stream": True,
            "max_tokens": max_tokens,
            "temperature": self.config.temperature
            if sampling is None or sampling.temperature is None
            else sampling.temperature,
            "stream_options": {"include_usage": True},
        }
        if sampling is not None and sampling.seed is not None:
            body["seed"] = sampling.seed
        if sampling is not None and sampling.stop:
            body["stop"] = list(sampling.stop)
        if self.config.logprobs:
            # Some servers (llama-cpp-python's among them) stream logprobs only
            # when top_logprobs is set too.
            body["logprobs"] = True
            body["top_logprobs"] = max(TOP_LOGPROBS, sampling.top_logprobs if sampling is not None else 0)
        headers = {"Accept": "text/event-stream"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return self.config.base_url.rstrip("/") + "/chat/completions", headers, body

    def parse(self, response: httpx.Response, messages: Sequence[Message]) -> Iterator[Chunk]:
        finish: str | None = None
        usage: Usage | None = None
        produced = 0
        for _, data in sse_events(response):
            if data.strip() == "[DONE]":
                break
            try:
                event = _StreamEvent.model_validate_json(data)
            except ValidationError:
                raise self.malformed(data) from None
            if event.usage is not None:
                usage = Usage(event.usage.prompt_tokens, event.usage.completion_tokens)
            for choice in event.choices[:1]:
                if choice.delta.refusal:
                    raise ProviderRefused(f"the model declined: {choice.delta.refusal}", provider=self.model_id)
                tokens = (choice.logprobs.content or []) if choice.logprobs else []
                logprobs = tuple(t.logprob for t in tokens)
                entropies = tuple(top_k_entropy([a.logprob for a in t.top_logprobs]) for t in tokens if t.top_logprobs)
                margins = tuple(
                    m for t in tokens if (m := top_k_margin([a.logprob for a in t.top_logprobs])) is not None
                )
                produced += len(logprobs) or (1 if choice.delta.content else 0)
                if choice.delta.content or logprobs:
                    alternatives = tuple(tuple((a.token, a.logprob) for a in t.top_logprobs) for t in tokens)
                    yield Chunk(
                        choice.delta.content or "",
                        logprobs,
                        entropies,
                        margins,
                        tuple(t.token for t in tokens),
                        alternatives=alternatives if any(alternatives) else (),
                    )
                if choice.finish_reason:
                    finish = choice.finish_reason
        if finish is None:
            raise self.cut_short()
        if finish == "content_filter":
            raise ProviderRefused("the service's content filter stopped the answer", provider=self.model_id)
        if usage is None:
            usage = Usage(sum(self.count_tokens(m.content) for m in messages), produced)
        yield Chunk("", finish_reason="stop" if finish == "stop" else finish, usage=usage)


def _wire_message(message: Message) -> dict[str, Any]:
    if not message.images:
        return {"role": message.role, "content": message.content}
    parts: list[dict[str, Any]] = [{"type": "text", "text": message.content}]
    parts += [{"type": "image_url", "image_url": {"url": url}} for url in message.images]
    return {"role": message.role, "content": parts}
