"""Builds providers from the configuration, once, and closes them together.

Keys are looked up here and injected. A remote provider handed out sends nothing on
its own: each request needs the outgoing gate's clearance (app/core/privacy/gate.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import Path

import httpx

from app.core.config.key_list import api_keys
from app.core.config.keys import api_key, missing_key_message
from app.core.config.location import Location
from app.core.config.schema import Config, LocalModel
from app.core.errors import InvalidInput
from app.core.models.fetch import ProgressFn, ensure_model_file
from app.core.providers.anthropic import AnthropicProvider
from app.core.providers.base import Provider
from app.core.providers.gemini import GeminiProvider
from app.core.providers.http_clients import client_for
from app.core.providers.llama_cpp import LlamaCppProvider
from app.core.providers.openai_compat import OpenAICompatibleProvider
from app.core.providers.remote import RemoteProvider

REMOTE_PROVIDERS: dict[str, type[RemoteProvider]] = {
    "openai-compatible": OpenAICompatibleProvider,
    "anthropic": AnthropicProvider,
    "gemini": GeminiProvider,
}


class ProviderRegistry:
    def __init__(
        self,
        config: Config,
        models_dir: Path,
        progress: ProgressFn | None = None,
        providers: Mapping[str, Provider] | None = None,
    ):
        """``providers`` are handed out as they are for their model ids, in place of building them from the
        config; whoever made them closes them."""
        self.config = config
        self.models_dir = models_dir
        self.progress: ProgressFn = progress or (lambda _: None)
        self._given: dict[str, Provider] = dict(providers or {})
        self._providers: dict[str, Provider] = {}
        self._http: dict[Location, httpx.Client] = {}
        # The window asks from its UI thread and from workers: build each provider once.
        self._lock = threading.Lock()

    def get(self, model_id: str) -> Provider:
        if model_id in self._given:
            return self._given[model_id]
        with self._lock:
            if model_id not in self._providers:
                self._providers[model_id] = self._build(model_id)
            return self._providers[model_id]

    def first(self) -> Provider:
        """The first tier's first model: the one that answers first."""
        return self.get(self.config.tiers[0].models[0])

    def local(self) -> LlamaCppProvider:
        """The first model as llama.cpp runs it: what it computes on, the images it can read."""
        provider = self.first()
        assert isinstance(provider, LlamaCppProvider)
        return provider

    def _model_file(self, model: LocalModel) -> Callable[[], Path]:
        return lambda: ensure_model_file(model, self.models_dir, self.progress)

    def _build(self, model_id: str) -> Provider:
        model = self.config.models[model_id]
        if isinstance(model, LocalModel):
            return LlamaCppProvider(model_id, model, self._model_file(model))
        if model.location not in self._http:
            self._http[model.location] = client_for(model.location)
        key, problem, spares = None, None, []
        if model.key:
            try:
                key = api_key(model.key)
            except InvalidInput as exc:  # a key no header can carry: nothing is sent, the user is told why
                problem = str(exc)
            if key is None and problem is None:
                problem = missing_key_message(model.key)
            spares = api_keys(model.key)[1:] if key is not None else []
        return REMOTE_PROVIDERS[model.provider](
            model_id, model, self._http[model.location], api_key=key, missing_key=problem, spare_keys=spares
        )

    def close(self) -> None:
        with self._lock:
            for provider in self._providers.values():
                provider.close()
            self._providers.clear()
            for client in self._http.values():
                client.close()
            self._http.clear()
