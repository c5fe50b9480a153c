"""What a model costs: an estimate before a request is sent, and the real cost after it.

Prices are USD per million tokens, from ``price_in`` / ``price_out`` in models.toml;
local models (and any model not in the configuration) are free.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.core.config.schema import Config, RemoteBase
from app.core.providers.base import Message, Provider


class Pricing:
    def __init__(self, config: Config):
        self.config = config

    def _prices(self, model_id: str) -> tuple[float, float]:
        model = self.config.models.get(model_id)
        if not isinstance(model, RemoteBase):
            return 0.0, 0.0
        return model.price_in, model.price_out

    def estimate(self, provider: Provider, messages: Sequence[Message]) -> float:
        """The most sending ``messages`` can cost: the prompt plus a full-length answer."""
        price_in, price_out = self._prices(provider.model_id)
        if not price_in and not price_out:
            return 0.0
        prompt = sum(provider.count_tokens(m.content) for m in messages)
        return (prompt * price_in + self.config.settings.max_answer_tokens * price_out) / 1_000_000

    def cost(self, model_id: str, tokens_in: int, tokens_out: int) -> float:
        price_in, price_out = self._prices(model_id)
        return (tokens_in * price_in + tokens_out * price_out) / 1_000_000

    def paid(self, model_id: str) -> bool:
        """Whether asking the model costs money (the monthly budget stops it)."""
        return any(self._prices(model_id))

    def reference(self) -> str | None:
        """The priciest configured model: what an answer written locally would otherwise have cost."""
        priced = [(sum(self._prices(name)), name) for name in self.config.models]
        priced = [p for p in priced if p[0] > 0]
        return max(priced)[1] if priced else None
