"""What a model costs: the one place prices are read, an estimate before a request, the real cost after.

Prices are USD per million tokens. A model's own ``price_in`` / ``price_out`` in models.toml win;
a cloud model without them is looked up in the dated price table shipped with Hearth
(``resources/prices.toml``); a model on this computer or on a server of yours is free; any other
cloud model's price is unknown, and is shown as unknown, never as $0 (sums count it as 0).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache

from pydantic import BaseModel, ConfigDict, ValidationError

from app.core.config.presets import preset_for
from app.core.config.schema import Config, Location, ModelConfig, RemoteBase
from app.core.errors import ConfigError
from app.core.paths import bundled
from app.core.providers.base import Message, Provider

# A listed model also prices its dated snapshots ("claude-sonnet-4-5-20250929", "gpt-4o-mini-2024-07-18").
_SNAPSHOT = re.compile(r"(-\d{4}-\d{2}-\d{2}|-\d{8}|-\d{3})?")


@dataclass(frozen=True)
class Price:
    price_in: float  # USD per million prompt tokens
    price_out: float  # USD per million answer tokens
    source: str  # where the numbers come from, in words

    @property
    def free(self) -> bool:
        return not self.price_in and not self.price_out


class _PriceFile(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    taken: date


@dataclass(frozen=True)
class PriceTable:
    taken: date
    services: dict[str, dict[str, tuple[float, float]]]

    def listed(self, service: str, model: str) -> Price | None:
        """``model`` of ``service`` as the table lists it (or a dated snapshot of a listed model)."""
        known = self.services.get(service, {})
        for name in sorted(known, key=len, reverse=True):
            if model == name or (model.startswith(name) and _SNAPSHOT.fullmatch(model[len(name) :])):
                price_in, price_out = known[name]
                return Price(price_in, price_out, f"Hearth's price table of {self.taken.isoformat()}")
        return None

    def models_of(self, service: str) -> list[str]:
        return list(self.services.get(service, {}))


@cache
def price_table() -> PriceTable:
    file = bundled("resources/prices.toml")
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
        taken = _PriceFile.model_validate(data).taken
        services = {
            service: {model: (float(pair[0]), float(pair[1])) for model, pair in models.items()}
            for service, models in data.items()
            if service != "taken"
        }
    except (OSError, tomllib.TOMLDecodeError, ValidationError, TypeError, ValueError, IndexError) as exc:
        raise ConfigError(f"cannot be read ({exc})", file=file) from None
    return PriceTable(taken, services)


def price_of(model: ModelConfig) -> Price | None:
    """What ``model`` costs, or None when nobody knows."""
    if not isinstance(model, RemoteBase):
        return Price(0.0, 0.0, "free: it runs on this computer")
    if {"price_in", "price_out"} & model.model_fields_set:
        return Price(model.price_in, model.price_out, "models.toml")
    if model.location is Location.SELF_HOSTED:
        return Price(0.0, 0.0, "free: it runs on a server of yours")
    service = preset_for(model.base_url)
    return price_table().listed(service.id, model.model) if service else None


def price_text(price: Price | None) -> str:
    """A price as the window and the terminal show it."""
    if price is None:
        return "unknown"
    if price.free:
        return "free"
    return f"${price.price_in:g} in / ${price.price_out:g} out per million tokens"


class Pricing:
    def __init__(self, config: Config):
        self.config = config

    def price(self, model_id: str) -> Price | None:
        model = self.config.models.get(model_id)
        return price_of(model) if model is not None else Price(0.0, 0.0, "not configured")

    def _prices(self, model_id: str) -> tuple[float, float]:
        price = self.price(model_id)
        return (price.price_in, price.price_out) if price else (0.0, 0.0)

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
        """Whether asking the model is known to cost money (the monthly budget stops it)."""
        return any(self._prices(model_id))

    def reference(self) -> str | None:
        """The priciest configured model: what an answer written locally would otherwise have cost."""
        priced = [(sum(self._prices(name)), name) for name in self.config.models]
        priced = [p for p in priced if p[0] > 0]
        return max(priced)[1] if priced else None
