"""What the configuration amounts to, per service and per tier row, as Tools → Providers and the CLI show it."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.config import key_list
from app.core.config.presets import Preset, preset_for
from app.core.config.schema import Config, Location, RemoteBase
from app.core.privacy.policy import Allowance, allowance
from app.core.providers.pricing import price_of, price_text

EFFECT = {Allowance.ALLOWED: "allowed", Allowance.ASK: "asks first", Allowance.FORBIDDEN: "never"}


@dataclass(frozen=True)
class ConfiguredService:
    name: str  # its key's name, else the known service's id, else its host
    preset: Preset | None
    base_url: str
    location: Location
    key: str | None
    models: list[str]  # model ids in models.toml


@dataclass(frozen=True)
class TierRow:
    tier: str | None  # None: the model is in no tier
    model_id: str
    model: str  # what the service calls it
    location: Location
    price: str
    key: str  # "none needed", "1 key (keychain)", "no key", …
    effect: str  # what the privacy policy does with it: allowed / asks first / never


def configured_services(config: Config) -> list[ConfiguredService]:
    groups: dict[str, list[str]] = {}
    for model_id, model in config.models.items():
        if isinstance(model, RemoteBase):
            groups.setdefault(_name(model), []).append(model_id)
    services = []
    for name, model_ids in groups.items():
        first = config.models[model_ids[0]]
        assert isinstance(first, RemoteBase)
        known = preset_for(first.base_url)
        services.append(ConfiguredService(name, known, first.base_url, first.location, first.key, model_ids))
    return services


def _name(model: RemoteBase) -> str:
    """The service a model belongs to: as named when added, else by its key, its known address, or its host."""
    known = preset_for(model.base_url)
    host = model.base_url.split("//", 1)[-1].split("/", 1)[0]
    return model.service or model.key or (known.id if known else host)


def service_named(config: Config, name: str) -> ConfiguredService | None:
    return next((s for s in configured_services(config) if s.name == name), None)


def _row(config: Config, tier: str | None, model_id: str) -> TierRow:
    model = config.models[model_id]
    if isinstance(model, RemoteBase):
        key = key_list.status(model.key).summary() if model.key else "none needed"
        name = model.model
    else:
        key, name = "none needed", model.file
    effect = EFFECT[allowance(config.settings.privacy, model.location)]
    return TierRow(tier, model_id, name, model.location, price_text(price_of(model)), key, effect)


def tier_rows(config: Config) -> list[TierRow]:
    """Every model of every tier, in order, then the models in no tier (tier None)."""
    rows = [_row(config, tier.name, model_id) for tier in config.tiers for model_id in tier.models]
    return rows + [_row(config, None, model_id) for model_id in unused_models(config)]


def unused_models(config: Config) -> list[str]:
    """Models defined but never asked: in no tier, no ensemble, not the shadow."""
    used = {m for tier in config.tiers for m in tier.models} | set(config.ensemble.models)
    if config.shadow.model:
        used.add(config.shadow.model)
    return [model_id for model_id in config.models if model_id not in used]


def unused_warning(model_id: str) -> str:
    return f"'{model_id}' is in no tier, so Hearth never asks it: drag it into a tier, or remove it."
