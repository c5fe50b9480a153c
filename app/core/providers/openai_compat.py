"""Any OpenAI-compatible chat completions endpoint, streamed over SSE.

Self-hosted servers (llama-server, Ollama, vLLM, LM Studio) and cloud services
(OpenAI, DeepSeek, OpenRouter, …) speak the same wire format. httpx errors
and HTTP statuses are translated here, once, into Hearth's error tree.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from app.core.config import RemoteModel
from app.core.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderStreamError,
    ProviderTimeout,
    ProviderUnreachable,
)
from app.core.logprobs import top_k_entropy
from app.core.providers.base import Chunk, Message, Sampling, Usage


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Alternative(_Loose):
    logprob: float


class _TokenLogprob(_Loose):
    logprob: float
    top_logprobs: list[_Alternative] = []


class _ChoiceLogprobs(_Loose):
    content: list[_TokenLogprob] | None = None


class _Delta(_Loose):
    content: str | None = None


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


TOP_LOGPROBS = 5


class OpenAICompatibleProvider:
    def __init__(self, model_id: str, config: RemoteModel, client: httpx.Client, api_key: str | None = None):
        """The key is injected by the caller; providers never look keys up themselves."""
        self.model_id = model_id
        self.config = config
        self.location = config.location
        self.n_ctx = config.n_ctx
        self._client = client
        self._api_key = api_key

    @property
    def label(self) -> str:
        return f"{self.config.model} at {self.config.base_url}"

    def count_tokens(self, text: str) -> int:
        """An estimate: remote tokenizers are not available offline."""
        return len(text) // 3 + 1

    def _request_body(self, messages: Sequence[Message], max_tokens: int, sampling: Sampling | None) -> dict[str, Any]:
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
        if self.config.logprobs:
            # Some servers (llama-cpp-python's among them) stream logprobs only
            # when top_logprobs is set too.
            body["logprobs"] = True
            body["top_logprobs"] = TOP_LOGPROBS
        return body

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int, sampling: Sampling | None = None
    ) -> Iterator[Chunk]:
        url = self.config.base_url.rstrip("/") + "/chat/completions"
        headers = {"Accept": "text/event-stream"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        timeout = httpx.Timeout(self.config.read_timeout, connect=self.config.connect_timeout)
        try:
            with self._client.stream(
                "POST", url, json=self._request_body(messages, max_tokens, sampling), headers=headers, timeout=timeout
            ) as response:
                if response.status_code != 200:
                    response.read()
                    raise self._status_error(response)
                yield from self._events(response, messages)
        except httpx.ConnectError as exc:
            raise ProviderUnreachable(
                f"could not connect to {self.config.base_url} ({exc}). Is the server running and reachable?",
                provider=self.model_id,
            ) from None
        except httpx.TimeoutException:
            raise ProviderTimeout(
                f"{self.config.base_url} did not answer in time. The server may be overloaded; try again later.",
                provider=self.model_id,
            ) from None
        except httpx.HTTPError as exc:
            raise ProviderStreamError(f"the connection failed mid-answer ({exc})", provider=self.model_id) from None

    def _events(self, response: httpx.Response, messages: Sequence[Message]) -> Iterator[Chunk]:
        finish: str | None = None
        usage: Usage | None = None
        produced = 0
        for line in response.iter_lines():
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                break
            try:
                event = _StreamEvent.model_validate_json(data)
            except ValidationError:
                raise ProviderStreamError(
                    f"sent a stream event Hearth cannot read: {data[:200]!r}", provider=self.model_id
                ) from None
            if event.usage is not None:
                usage = Usage(event.usage.prompt_tokens, event.usage.completion_tokens)
            for choice in event.choices[:1]:
                tokens = (choice.logprobs.content or []) if choice.logprobs else []
                logprobs = tuple(t.logprob for t in tokens)
                entropies = tuple(top_k_entropy([a.logprob for a in t.top_logprobs]) for t in tokens if t.top_logprobs)
                produced += len(logprobs) or (1 if choice.delta.content else 0)
                if choice.delta.content or logprobs:
                    yield Chunk(choice.delta.content or "", logprobs, entropies)
                if choice.finish_reason:
                    finish = choice.finish_reason
        if finish is None:
            raise ProviderStreamError("the stream ended before the answer was complete", provider=self.model_id)
        if usage is None:
            prompt = sum(self.count_tokens(m.content) for m in messages)
            usage = Usage(prompt, produced)
        yield Chunk("", finish_reason=finish, usage=usage)

    def _status_error(self, response: httpx.Response) -> ProviderError:
        status = response.status_code
        detail = _error_detail(response)
        if status in (401, 403):
            return ProviderAuthError(
                f"the server refused the API key (HTTP {status}: {detail}). Check the key in Settings.",
                provider=self.model_id,
            )
        if status == 429:
            retry_after = _retry_after(response)
            wait = f" Try again in {retry_after:.0f} s." if retry_after is not None else ""
            return ProviderRateLimited(
                f"rate limited (HTTP 429: {detail}).{wait}", provider=self.model_id, retry_after=retry_after
            )
        return ProviderRejected(f"HTTP {status}: {detail}", provider=self.model_id, retryable=status >= 500)

    def close(self) -> None:
        """The HTTP client belongs to the caller, which closes it."""


def _error_detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return response.text[:200] or response.reason_phrase
    if isinstance(body, dict):
        error = body.get("error", body.get("detail", body))
        if isinstance(error, dict):
            return str(error.get("message", error))[:200]
        return str(error)[:200]
    return str(body)[:200]


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _wire_message(message: Message) -> dict[str, Any]:
    if not message.images:
        return {"role": message.role, "content": message.content}
    parts: list[dict[str, Any]] = [{"type": "text", "text": message.content}]
    parts += [{"type": "image_url", "image_url": {"url": url}} for url in message.images]
    return {"role": message.role, "content": parts}
