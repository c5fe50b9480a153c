"""One behavioural suite for every remote provider: the same promises, each service's own wire format.

Anthropic and Gemini cannot run here, so they (and the OpenAI cloud's error
cases) answer through httpx.MockTransport with their documented formats;
the OpenAI-compatible family is also run against a real llama.cpp server.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
import pytest

from app.core.config.schema import AnthropicModel, GeminiModel, RemoteModel
from app.core.errors import (
    ProviderAuthError,
    ProviderContextTooLong,
    ProviderOverloaded,
    ProviderRateLimited,
    ProviderRefused,
    ProviderStreamError,
    ProviderTimeout,
    ProviderUnreachable,
)
from app.core.providers.base import Message
from app.core.providers.registry import REMOTE_PROVIDERS
from tests.conftest import free_port, through_gate
from tests.wire_formats import ERROR_BODIES, LENGTH_STOP, REFUSAL_STOP, STREAMS

KEY = "sk-test-PLANTED-KEY-1234567890"
MESSAGES = [Message("system", "Be brief."), Message("user", "What is the capital of France?")]
KINDS = ["openai-compatible", "anthropic", "gemini"]


def model_config(kind: str, base_url: str = "https://api.example.test"):
    common = {"base_url": base_url, "model": "m1", "key": "k", "logprobs": kind != "anthropic"}
    if kind == "openai-compatible":
        return RemoteModel(provider=kind, location="cloud", **common)
    if kind == "anthropic":
        return AnthropicModel(provider=kind, **common)
    return GeminiModel(provider=kind, **common)


class Service:
    """A scripted service: answers each request with the given status, headers and body."""

    def __init__(self, status: int = 200, body: str | dict = "", headers: dict[str, str] | None = None):
        self.status, self.body, self.headers = status, body, headers or {}
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if isinstance(self.body, dict):
            return httpx.Response(self.status, json=self.body, headers=self.headers)
        return httpx.Response(
            self.status, text=self.body, headers={"content-type": "text/event-stream", **self.headers}
        )


def provider(kind: str, service: Service):
    client = httpx.Client(transport=httpx.MockTransport(service))
    return REMOTE_PROVIDERS[kind]("remote", model_config(kind), client, api_key=KEY)


def collect(stream):
    chunks = []
    try:
        for chunk in stream:
            chunks.append(chunk)
    except Exception as exc:  # the test inspects both what arrived and how it ended
        return chunks, exc
    return chunks, None


@pytest.mark.parametrize("kind", KINDS)
def test_an_answer_streams_in_pieces_with_usage_and_finish(kind: str):
    service = Service(body=STREAMS[kind](["Paris", " is", " the", " capital."]))
    chunks, error = collect(through_gate(provider(kind, service), MESSAGES, max_tokens=32))
    assert error is None
    assert "".join(c.text for c in chunks) == "Paris is the capital."
    assert len([c for c in chunks if c.text]) == 4
    assert chunks[-1].finish_reason == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.prompt_tokens == 12
    assert chunks[-1].usage.completion_tokens == 4


@pytest.mark.parametrize("kind", ["openai-compatible", "gemini"])
def test_token_probabilities_come_back_where_the_service_offers_them(kind: str):
    service = Service(body=STREAMS[kind](["Paris", "."]))
    chunks, _ = collect(through_gate(provider(kind, service), MESSAGES, max_tokens=32))
    assert [lp for c in chunks for lp in c.logprobs] == [-0.1, -0.1]
    assert all(0 < e < 1 for c in chunks for e in c.entropies)


@pytest.mark.parametrize("kind", KINDS)
def test_an_answer_cut_by_the_token_limit_says_so(kind: str):
    service = Service(body=STREAMS[kind](["Paris"], LENGTH_STOP[kind]))
    chunks, error = collect(through_gate(provider(kind, service), MESSAGES, max_tokens=1))
    assert error is None and chunks[-1].finish_reason == "length"


@pytest.mark.parametrize("kind", KINDS)
def test_a_stream_cut_short_keeps_what_arrived_and_says_so(kind: str):
    body = (
        STREAMS[kind](["Paris", " is"], None)
        if kind != "openai-compatible"
        else STREAMS[kind](["Paris", " is"], None, done=False)
    )
    chunks, error = collect(through_gate(provider(kind, Service(body=body)), MESSAGES, max_tokens=32))
    assert "".join(c.text for c in chunks) == "Paris is"
    assert isinstance(error, ProviderStreamError) and "ended before the answer was complete" in str(error)


@pytest.mark.parametrize("kind", KINDS)
def test_an_unreadable_event_is_a_stream_error(kind: str):
    chunks, error = collect(through_gate(provider(kind, Service(body="data: {not json\n\n")), MESSAGES, max_tokens=8))
    assert isinstance(error, ProviderStreamError) and "cannot read" in str(error)


@pytest.mark.parametrize("kind", KINDS)
def test_a_refusal_is_reported_as_one(kind: str):
    service = Service(body=STREAMS[kind](["I"], REFUSAL_STOP[kind]))
    _, error = collect(through_gate(provider(kind, service), MESSAGES, max_tokens=8))
    assert isinstance(error, ProviderRefused) and not error.retryable


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "status, error_kind, message, headers, expected",
    [
        (401, "authentication_error", "invalid x-api-key", {}, ProviderAuthError),
        (429, "rate_limit_error", "slow down", {"Retry-After": "7"}, ProviderRateLimited),
        (529, "overloaded_error", "Overloaded", {}, ProviderOverloaded),
        (503, "unavailable", "The model is overloaded. Please try again later.", {}, ProviderOverloaded),
        (
            400,
            "invalid_request_error",
            "prompt is too long: 250000 tokens > 200000 maximum",
            {},
            ProviderContextTooLong,
        ),
    ],
)
def test_http_errors_become_hearth_errors(kind, status, error_kind, message, headers, expected):
    service = Service(status, ERROR_BODIES[kind](error_kind, message), headers)
    _, error = collect(through_gate(provider(kind, service), MESSAGES, max_tokens=8))
    assert isinstance(error, expected), error
    assert message in str(error) and "remote" in str(error)
    assert KEY not in str(error)
    if status == 429:
        assert error.retry_after == 7.0 and "Try again in 7 s" in str(error)
    assert error.retryable is (status in (429, 503, 529))


def test_anthropic_overloaded_in_the_middle_of_a_stream():
    body = STREAMS["anthropic"](["Par"], None) + (
        'event: error\ndata: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}\n\n'
    )
    chunks, error = collect(through_gate(provider("anthropic", Service(body=body)), MESSAGES, max_tokens=8))
    assert "".join(c.text for c in chunks) == "Par" and isinstance(error, ProviderOverloaded)


@pytest.mark.parametrize("kind", KINDS)
def test_requests_carry_the_key_system_prompt_and_images_as_each_service_documents(kind: str):
    service = Service(body=STREAMS[kind](["ok"]))
    image = "data:image/png;base64," + base64.b64encode(b"\x89PNG").decode()
    messages = [Message("system", "Be brief."), Message("user", "What is this?", (image,))]
    collect(through_gate(provider(kind, service), messages, max_tokens=16))
    request = service.requests[0]
    body = json.loads(request.content)
    if kind == "openai-compatible":
        assert request.url.path.endswith("/chat/completions") and request.headers["authorization"] == f"Bearer {KEY}"
        assert body["messages"][0] == {"role": "system", "content": "Be brief."}
        assert body["messages"][1]["content"][1] == {"type": "image_url", "image_url": {"url": image}}
        assert body["stream"] is True and body["max_tokens"] == 16 and body["logprobs"] is True
    elif kind == "anthropic":
        assert request.url.path == "/v1/messages" and request.headers["x-api-key"] == KEY
        assert request.headers["anthropic-version"] == "2023-06-01"
        assert body["system"] == "Be brief." and [m["role"] for m in body["messages"]] == ["user"]
        assert body["messages"][0]["content"][0] == {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": image.split(",")[1]},
        }
        assert body["max_tokens"] == 16 and body["stream"] is True
    else:
        assert request.url.path == "/v1beta/models/m1:streamGenerateContent" and request.url.params["alt"] == "sse"
        assert request.headers["x-goog-api-key"] == KEY
        assert body["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
        assert body["contents"][0]["parts"][0] == {
            "inline_data": {"mime_type": "image/png", "data": image.split(",")[1]}
        }
        assert body["generationConfig"]["maxOutputTokens"] == 16 and body["generationConfig"]["responseLogprobs"]


@pytest.mark.parametrize("kind", KINDS)
def test_an_unreachable_service_and_a_silent_one_are_told_apart(kind: str):
    dead = REMOTE_PROVIDERS[kind]("remote", model_config(kind, f"http://127.0.0.1:{free_port()}"), httpx.Client())
    _, error = collect(through_gate(dead, MESSAGES, max_tokens=8))
    assert isinstance(error, ProviderUnreachable) and "Is the server running" in str(error)

    def silent(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("no byte for 60 s", request=request)

    slow = REMOTE_PROVIDERS[kind]("remote", model_config(kind), httpx.Client(transport=httpx.MockTransport(silent)))
    _, error = collect(through_gate(slow, MESSAGES, max_tokens=8))
    assert isinstance(error, ProviderTimeout) and error.retryable


@pytest.mark.server
def test_the_openai_compatible_provider_against_a_real_llama_cpp_server(llama_server: str, tmp_path: Path):
    config = RemoteModel(
        provider="openai-compatible",
        location="self-hosted",
        base_url=llama_server,
        model="smol-server",
        logprobs=True,
        temperature=0.0,
    )
    real = REMOTE_PROVIDERS["openai-compatible"]("server", config, httpx.Client())
    chunks, error = collect(through_gate(real, MESSAGES, max_tokens=6))
    assert error is None and chunks[-1].finish_reason in ("stop", "length")
    assert chunks[-1].usage.completion_tokens > 0 and any(c.logprobs for c in chunks)
    stream = through_gate(real, MESSAGES, max_tokens=64)
    first = next(stream)
    stream.close()  # stopping mid-stream releases the connection
    assert first.text or first.logprobs
    again, error = collect(through_gate(real, MESSAGES, max_tokens=4))
    assert error is None and again[-1].usage is not None
