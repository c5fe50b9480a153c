"""One service as the user set it up: which preset, under what name, at what address, with which key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError

from app.core.config.key_names import name_problem
from app.core.config.presets import Preset, location_problem, model_id_for, presets
from app.core.config.remote_address import address_problem
from app.core.config.schema import Location, ModelConfig, RemoteBase
from app.core.errors import InvalidInput
from app.core.providers.pricing import Price

LOCATIONS = (Location.SELF_HOSTED, Location.CLOUD)


@dataclass(frozen=True)
class Connection:
    preset: Preset
    name: str  # names its models in models.toml (and its key, when it has one)
    base_url: str
    location: Location
    key: str | None  # the name its API keys are kept under; None: it needs none

    @classmethod
    def of(
        cls,
        preset: Preset,
        *,
        name: str | None = None,
        base_url: str | None = None,
        location: str | None = None,
        with_key: bool | None = None,
    ) -> Connection:
        """``preset`` with what the user changed; an address or location it cannot use is refused in words."""
        name = name or preset.id
        problem = name_problem(name)
        if problem:
            raise InvalidInput(f"{problem.replace('an API key', 'a provider')}.")
        other = next((p for p in presets() if p.id != preset.id and name in (p.id, p.key)), None)
        if other is not None:  # its keys are kept under that name: they would go to this address
            raise InvalidInput(
                f"'{name}' is the name of {other.name} in Hearth. Give this provider a name of its own, so that it "
                f"is never sent {other.name}'s keys."
            )
        address = (base_url or preset.base_url).strip()
        if not address:
            raise InvalidInput(f"{preset.name} needs the server's address, for example http://192.168.1.20:8080/v1.")
        where = Location(location) if location else preset.location
        if where not in LOCATIONS:
            raise InvalidInput(f"A provider runs 'self-hosted' or in the 'cloud', not '{location}'.")
        keyed = preset.key is not None if with_key is None else with_key
        key = (preset.key if name == preset.id and preset.key else name) if keyed else None
        problem = (
            address_problem(address, key) or location_problem(address, where)
            if address.startswith(("http://", "https://"))
            else "needs http(s)://"
        )
        if problem:
            raise InvalidInput(f"The address {address} {problem}.")
        return cls(preset, name, address, where, key)

    def model_id(self, model: str) -> str:
        return model_id_for(self.name, model)

    def model_table(self, model: str, price: Price | None = None, n_ctx: int | None = None) -> dict[str, Any]:
        """What models.toml says about ``model`` of this service (prices only when known)."""
        table: dict[str, Any] = {
            "provider": self.preset.wire,
            "location": self.location.value,
            "base_url": self.base_url,
            "model": model,
            "service": self.name,
        }
        if self.key:
            table["key"] = self.key
        if n_ctx:
            table["n_ctx"] = max(256, min(n_ctx, 1_048_576))
        if price is not None and self.location is Location.CLOUD:
            table["price_in"] = price.price_in
            table["price_out"] = price.price_out
        return table

    def config(self, model: str) -> RemoteBase:
        """``model`` of this service as a validated configuration entry."""
        try:
            parsed: ModelConfig = TypeAdapter(ModelConfig).validate_python(self.model_table(model))
        except ValidationError as exc:
            raise InvalidInput(f"{self.preset.name} at {self.base_url}: {exc.errors()[0]['msg']}") from None
        assert isinstance(parsed, RemoteBase)
        return parsed
