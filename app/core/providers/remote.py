"""What every provider reached over HTTP shares: the request, the SSE stream, and error translation.

httpx exceptions and HTTP statuses become Hearth's provider errors here, once,
for every service, with the API key taken out of their text in every form a
server or a library may echo it in (app/core/config/key_scrubbing.py), so no error
that is shown, stored or exported holds it. Subclasses say how to build the
request and how to read their stream's events.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import httpx

from app.core.config.key_scrubbing import scrub_keys
from app.core.config.schema import RemoteBase
from app.core.errors import (
    GateClosed,
    ProviderAuthError,
    ProviderContextTooLong,
    ProviderError,
    ProviderNoCredit,
    ProviderNotFound,
    ProviderOverloaded,
    ProviderRateLimited,
    ProviderRejected,
    ProviderStreamError,
    ProviderTimeout,
)
from app.core.nested_text import read_json
from app.core.providers.base import Chunk, ClearanceCheck, Message, Sampling
from app.core.providers.connect_errors import connect_failure

# No real answer needs more than this many bytes of stream per token asked for (an event with
# 20 alternatives' log-probabilities is about 2 KiB); a service sending more is broken or hostile.
BYTES_PER_TOKEN = 8 * 1024
MIN_REPLY_BYTES = 1 << 20
ERROR_BODY_BYTES = 64 * 1024  # of an error response, only the start is read

_TOO_LONG = ("too long", "context length", "context_length", "maximum context", "too many tokens", "exceeds")


class RemoteProvider:
    """Base of the HTTP providers; the key is injected, never looked up here."""

    def __init__(
        self,
        model_id: str,
        config: RemoteBase,
        client: httpx.Client,
        api_key: str | None = None,
        missing_key: str | None = None,
        spare_keys: Sequence[str] = (),
    ):
        """``missing_key`` explains a configured key that could not be found: the outgoing gate skips it.

        ``spare_keys`` are the service's other keys: when it refuses or rate-limits the key in use
        before answering, the same cleared request is sent again with the next one, and that key
        stays in use.
        """
        self.missing_key = missing_key
        self._spare_keys = list(spare_keys)
        self.model_id = model_id
        self.config = config
        self.location = config.location
        self.n_ctx = config.n_ctx
        self._client = client
        self._api_key = api_key

    @property
    def label(self) -> str:
        return f"{self.config.model} at {self.config.base_url}"

    @property
    def address(self) -> str:
        return self.config.base_url

    def count_tokens(self, text: str) -> int:
        """An estimate: remote tokenizers are not available offline."""
        return len(text) // 3 + 1

    def close(self) -> None:
        """The HTTP client belongs to the caller, which closes it."""

    # What a subclass provides
    def request(
        self, messages: Sequence[Message], max_tokens: int, sampling: Sampling | None
    ) -> tuple[str, dict[str, str], dict[str, Any]]:
        """URL, headers and JSON body of a streaming request."""
        raise NotImplementedError

    def parse(self, response: httpx.Response, messages: Sequence[Message]) -> Iterator[Chunk]:
        """Chunks from the response stream; the last one carries finish reason and usage."""
        raise NotImplementedError

    def error_detail(self, body: Any) -> str:
        """The human part of an error body."""
        if isinstance(body, dict):
            error = body.get("error", body.get("detail", body))
            if isinstance(error, dict):
                return str(error.get("message", error))[:300]
            return str(error)[:300]
        return str(body)[:300]

    # Shared
    def stream(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int,
        sampling: Sampling | None = None,
        clearance: ClearanceCheck | None = None,
    ) -> Iterator[Chunk]:
        """Send ``messages``: only with the outgoing gate's clearance for this provider and these messages."""
        if clearance is None or not clearance.admits(self, messages):
            raise GateClosed(f"{self.model_id}: nothing was sent, because the request did not pass the outgoing gate")
        every_key = [self._api_key, *self._spare_keys]
        turns_left = len(self._spare_keys)
        try:
            while True:
                answered = False
                attempt = self._stream(messages, max_tokens, sampling)
                try:
                    for chunk in attempt:
                        answered = True
                        yield chunk
                    return
                except (ProviderAuthError, ProviderRateLimited):
                    if answered or turns_left == 0:
                        raise
                    turns_left -= 1
                    self._next_key()
                finally:
                    attempt.close()
        except ProviderError as exc:
            exc.args = (scrub_keys(str(exc), every_key),)
            raise

    def _next_key(self) -> None:
        """The next key takes over; the refused one goes to the back of the line."""
        if self._api_key is not None:
            self._spare_keys.append(self._api_key)
        self._api_key = self._spare_keys.pop(0)

    @property
    def timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.config.read_timeout, connect=self.config.connect_timeout)

    def exchange(self, messages: Sequence[Message], max_tokens: int, sampling: Sampling | None) -> Iterator[Chunk]:
        """One request and its answer; a subclass that asks something other than a chat overrides this."""
        url, headers, body = self.request(messages, max_tokens, sampling)
        limit = max(MIN_REPLY_BYTES, max_tokens * BYTES_PER_TOKEN)
        with self._client.stream("POST", url, json=body, headers=headers, timeout=self.timeout) as response:
            if response.status_code != 200:
                raise self.status_error(response, read_at_most(response, ERROR_BODY_BYTES))
            response.stream = _CappedStream(response.stream, limit, self.model_id)
            yield from self.parse(response, messages)

    def _stream(self, messages: Sequence[Message], max_tokens: int, sampling: Sampling | None) -> Iterator[Chunk]:
        try:
            yield from self.exchange(messages, max_tokens, sampling)
        except httpx.ConnectError as exc:
            raise connect_failure(exc, self.config.base_url, self.model_id) from None
        except httpx.TimeoutException:
            raise ProviderTimeout(
                f"{self.config.base_url} did not answer in time. The service may be overloaded; try again later.",
                provider=self.model_id,
            ) from None
        except httpx.LocalProtocolError as exc:  # refused before sending: a header HTTP cannot carry
            raise ProviderAuthError(
                f"the request could not be sent ({exc}): the API key has characters an HTTP header cannot carry. "
                "Store the key again (Tools → Providers, or `hearth key set`).",
                provider=self.model_id,
            ) from None
        except httpx.HTTPError as exc:
            raise ProviderStreamError(f"the connection failed mid-answer ({exc})", provider=self.model_id) from None

    def status_error(self, response: httpx.Response, content: bytes) -> ProviderError:
        status = response.status_code
        try:
            detail = self.error_detail(read_json(content))
        except ValueError:  # malformed, not UTF-8, or nested too deeply (a hostile body)
            detail = content[:300].decode("utf-8", "replace") or response.reason_phrase
        retry_after = _retry_after(response)
        wait = f" Try again in {retry_after:.0f} s." if retry_after is not None else ""
        if status in (401, 403):
            return ProviderAuthError(
                f"the service refused the API key (HTTP {status}: {detail}). Copy the key again from the "
                "provider's page and store it in Tools → Providers.",
                provider=self.model_id,
            )
        if status == 402 or _no_credit(content):
            return ProviderNoCredit(
                f"the account has no credit left (HTTP {status}: {detail}). Add credit or a payment method on the "
                "provider's billing page, then try again.",
                provider=self.model_id,
            )
        if status == 429:
            return ProviderRateLimited(
                f"rate limited (HTTP 429: {detail}).{wait or ' Wait a minute and try again.'} "
                "A second key for this service (Tools → Providers) is used when the first is limited.",
                provider=self.model_id,
                retry_after=retry_after,
            )
        if status == 404:
            return ProviderNotFound(
                f"nothing at {response.request.url} (HTTP 404: {detail}). Check the address (an OpenAI-compatible "
                "server's usually ends in /v1) and the model's name.",
                provider=self.model_id,
            )
        if status in (503, 529):
            return ProviderOverloaded(
                f"the service is overloaded (HTTP {status}: {detail}).{wait}",
                provider=self.model_id,
                retry_after=retry_after,
            )
        if status in (400, 413) and any(marker in detail.lower() for marker in _TOO_LONG):
            return ProviderContextTooLong(
                f"the conversation is too long for {self.config.model} ({detail}). Start a new conversation.",
                provider=self.model_id,
            )
        return ProviderRejected(f"HTTP {status}: {detail}", provider=self.model_id, retryable=status >= 500)

    def malformed(self, data: str) -> ProviderStreamError:
        return ProviderStreamError(f"sent a stream event Hearth cannot read: {data[:200]!r}", provider=self.model_id)

    def cut_short(self) -> ProviderStreamError:
        return ProviderStreamError("the stream ended before the answer was complete", provider=self.model_id)


class _CappedStream(httpx.SyncByteStream):
    """A response body that stops with an error once it outgrows any real answer."""

    def __init__(self, stream: httpx.SyncByteStream, limit: int, provider: str):
        self._stream, self._limit, self._provider = stream, limit, provider

    def __iter__(self) -> Iterator[bytes]:
        received = 0
        for block in self._stream:
            received += len(block)
            if received > self._limit:
                raise ProviderStreamError(
                    f"sent more than {self._limit // (1 << 20)} MiB for one answer, far more than any real "
                    "answer needs; Hearth stopped reading and kept what had arrived",
                    provider=self._provider,
                )
            yield block

    def close(self) -> None:
        self._stream.close()


def read_at_most(response: httpx.Response, limit: int) -> bytes:
    content = b""
    for block in response.iter_bytes():
        content += block
        if len(content) >= limit:
            break
    return content[:limit]


def sse_events(response: httpx.Response) -> Iterator[tuple[str | None, str]]:
    """(event name, data) pairs of a text/event-stream, data lines joined as the spec says."""
    event: str | None = None
    data: list[str] = []
    for line in response.iter_lines():
        if not line:
            if data:
                yield event, "\n".join(data)
            event, data = None, []
        elif line.startswith(":"):
            continue
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
    if data:
        yield event, "\n".join(data)


def _no_credit(content: bytes) -> bool:
    """OpenAI says "insufficient_quota" (with HTTP 429) when the account has no credit left."""
    return b"insufficient_quota" in content or b"credit balance is too low" in content


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
