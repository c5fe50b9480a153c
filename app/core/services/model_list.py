"""A service's own list of models: OpenAI-style ``/models``, Anthropic's ``/v1/models``, Gemini's ``/v1beta/models``.

The list is asked like any other request that leaves this computer: ``ModelListing`` is a
destination the outgoing gate clears (with no messages: a GET sends none), audits and lets
through; it refuses to send without that clearance, and its errors read like a chat's.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from app.core.errors import ProviderStreamError
from app.core.providers.anthropic import API_VERSION
from app.core.providers.base import Chunk, Message, Sampling, Usage
from app.core.providers.pricing import Price, price_table
from app.core.providers.remote import RemoteProvider, read_at_most
from app.core.services.connection import Connection

LIST_BYTES = 8 << 20  # OpenRouter's list, the longest known, is about 1 MiB
MOST_PAGES = 20


@dataclass(frozen=True)
class ListedModel:
    id: str  # what requests name it
    context: int | None  # its context window, when the list says
    price: Price | None  # from the service's own list (OpenRouter), else Hearth's price table


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _PerToken(_Loose):
    prompt: float | None = None
    completion: float | None = None


class _OpenAIEntry(_Loose):
    id: str
    context_length: int | None = None
    pricing: _PerToken | None = None  # OpenRouter: USD per token


class _OpenAIList(_Loose):
    data: list[_OpenAIEntry]


class _AnthropicEntry(_Loose):
    id: str


class _AnthropicList(_Loose):
    data: list[_AnthropicEntry]
    has_more: bool = False
    last_id: str | None = None


class _GeminiEntry(_Loose):
    name: str
    inputTokenLimit: int | None = None  # noqa: N815 (the wire's name)
    supportedGenerationMethods: list[str] = []  # noqa: N815


class _GeminiList(_Loose):
    models: list[_GeminiEntry] = []
    nextPageToken: str | None = None  # noqa: N815


class ModelListing(RemoteProvider):
    """Asks a service which models it has; ``listed`` holds them once its (single, empty) stream ends."""

    def __init__(self, connection: Connection, client: httpx.Client, api_key: str | None, **keys: Any):
        super().__init__(f"{connection.name} (model list)", connection.config(""), client, api_key, **keys)
        self.connection = connection
        self.listed: list[ListedModel] = []

    @property
    def label(self) -> str:
        return f"the model list at {self.config.base_url}"

    def exchange(self, messages: Sequence[Message], max_tokens: int, sampling: Sampling | None) -> Iterator[Chunk]:
        wire = self.connection.preset.wire
        found = self._anthropic() if wire == "anthropic" else self._gemini() if wire == "gemini" else self._openai()
        preset = self.connection.preset
        self.listed = sorted((m for m in found if preset.chats(m.id)), key=lambda m: m.id)
        yield Chunk("", finish_reason="stop", usage=Usage(0, 0))

    def _get(self, path: str, params: dict[str, str], headers: dict[str, str]) -> Any:
        url = self.config.base_url.rstrip("/") + path
        with self._client.stream("GET", url, params=params, headers=headers, timeout=self.timeout) as response:
            content = read_at_most(response, LIST_BYTES)
            if response.status_code != 200:
                raise self.status_error(response, content)
        return content

    def _parse(self, kind: type[BaseModel], content: bytes) -> Any:
        try:
            return kind.model_validate_json(content)
        except ValidationError:
            raise ProviderStreamError(
                f"answered with something that is not a model list: {content[:200]!r}. Check the address.",
                provider=self.model_id,
            ) from None

    def _price(self, model: str, per_token: _PerToken | None) -> Price | None:
        if per_token is not None and per_token.prompt is not None and per_token.completion is not None:
            return Price(per_token.prompt * 1e6, per_token.completion * 1e6, "the service's own model list")
        return price_table().listed(self.connection.preset.id, model)

    def _openai(self) -> list[ListedModel]:
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        page = self._parse(_OpenAIList, self._get("/models", {}, headers))
        return [ListedModel(m.id, m.context_length, self._price(m.id, m.pricing)) for m in page.data]

    def _anthropic(self) -> list[ListedModel]:
        headers = {"anthropic-version": API_VERSION, **({"x-api-key": self._api_key} if self._api_key else {})}
        found: list[ListedModel] = []
        params = {"limit": "1000"}
        for _ in range(MOST_PAGES):
            page = self._parse(_AnthropicList, self._get("/v1/models", params, headers))
            found += [ListedModel(m.id, None, self._price(m.id, None)) for m in page.data]
            if not page.has_more or not page.last_id:
                break
            params = {"limit": "1000", "after_id": page.last_id}
        return found

    def _gemini(self) -> list[ListedModel]:
        headers = {"x-goog-api-key": self._api_key} if self._api_key else {}
        found: list[ListedModel] = []
        params = {"pageSize": "1000"}
        for _ in range(MOST_PAGES):
            page = self._parse(_GeminiList, self._get("/v1beta/models", params, headers))
            for entry in page.models:
                if "generateContent" in entry.supportedGenerationMethods:
                    model = entry.name.removeprefix("models/")
                    found.append(ListedModel(model, entry.inputTokenLimit, self._price(model, None)))
            if not page.nextPageToken:
                break
            params = {"pageSize": "1000", "pageToken": page.nextPageToken}
        return found
