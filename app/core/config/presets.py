"""The providers Hearth knows by name (``resources/providers.toml``): where each lives and how it is spoken to."""

from __future__ import annotations

import re
import tomllib
from functools import cache
from typing import Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.core.config.key_names import env_name
from app.core.config.location import Location
from app.core.errors import ConfigError, InvalidInput
from app.core.paths import bundled

Wire = Literal["openai-compatible", "anthropic", "gemini"]


class Preset(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str
    wire: Wire
    base_url: str = Field(pattern=r"^(https?://.*)?$")
    location: Literal[Location.SELF_HOSTED, Location.CLOUD]
    key: str | None = Field(default=None, description="the API key's name; None: the service needs none")
    suggested: str | None = None
    key_page: str | None = None
    not_chat: tuple[str, ...] = ()
    port: int | None = Field(default=None, description="the loopback port a server of this kind listens on")
    custom: bool = Field(default=False, description="the user gives the address and the location")

    @property
    def key_variable(self) -> str | None:
        return env_name(self.key) if self.key else None

    def chats(self, model: str) -> bool:
        """Whether ``model`` from this service's list can answer a chat (not an embedding or image model)."""
        lowered = model.lower()
        return not any(word in lowered for word in self.not_chat)


@cache
def presets() -> tuple[Preset, ...]:
    file = bundled("resources/providers.toml")
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
        return tuple(Preset.model_validate({"id": key, **value}) for key, value in data.items())
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ConfigError(f"cannot be read ({exc})", file=file) from None


def preset(preset_id: str) -> Preset:
    for known in presets():
        if known.id == preset_id:
            return known
    names = ", ".join(p.id for p in presets())
    raise InvalidInput(f"Hearth knows no provider '{preset_id}'. Known: {names}.")


def _same_address(a: str, b: str) -> bool:
    return a.rstrip("/").lower() == b.rstrip("/").lower()


def preset_for(base_url: str) -> Preset | None:
    """The known service at ``base_url``, if it is one."""
    return next((p for p in presets() if p.base_url and _same_address(p.base_url, base_url)), None)


def _domain(host: str) -> str:
    """The name a service's hosts share: api.openai.com -> openai.com."""
    return ".".join(host.lower().rstrip(".").split(".")[-2:])


def cloud_service_at(base_url: str) -> Preset | None:
    """The known cloud service whose domain ``base_url`` is on (api.openai.com, eu.api.openai.com, ...), if any."""
    try:
        host = httpx.URL(base_url).host.lower().rstrip(".")
    except httpx.InvalidURL:
        return None
    for known in presets():
        if known.location is Location.CLOUD and known.base_url:
            domain = _domain(httpx.URL(known.base_url).host)
            if host == domain or host.endswith(f".{domain}"):
                return known
    return None


def location_problem(base_url: str, location: Location) -> str | None:
    """Why a model at ``base_url`` cannot be said to run at ``location``, or None.

    The location is what the privacy policy and consent are decided on; a known cloud service's
    address is the cloud whatever a configuration calls it.
    """
    service = cloud_service_at(base_url) if location is not Location.CLOUD else None
    if service is None:
        return None
    return (
        f"is {service.name}'s cloud service, so whatever is sent there leaves this computer for {service.name}: "
        f"its location is 'cloud', not '{location.value}'"
    )


def model_id_for(prefix: str, model: str) -> str:
    """The name a model gets under [models] in models.toml: the connection's name and the model's own."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", f"{prefix}-{model}").strip("-").lower()
