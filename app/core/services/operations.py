"""What Tools → Providers and ``hearth providers`` do: the same few steps, each a short function over the core."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.core.config import edit as config_edit
from app.core.config import key_list
from app.core.config.load import parse_config
from app.core.config.presets import preset
from app.core.config.schema import Config, Location, Privacy
from app.core.errors import InvalidInput
from app.core.paths import UserPaths
from app.core.privacy.policy import Allowance, allowance
from app.core.providers.pricing import Price, price_table
from app.core.services.config_changes import with_service_model, with_tier_order, without_models
from app.core.services.connection import Connection
from app.core.services.model_list import ListedModel
from app.core.services.overview import service_named


@dataclass(frozen=True)
class Added:
    model_id: str
    tier: str
    price: Price | None  # None: unknown
    config: Config


def listed_price(connection: Connection, model: str, listed: Sequence[ListedModel] = ()) -> Price | None:
    """What ``model`` costs: as the service's list says, else Hearth's table; a server of yours is free."""
    if connection.location is Location.SELF_HOSTED:
        return Price(0.0, 0.0, "free: it runs on a server of yours")
    entry = next((m for m in listed if m.id == model), None)
    if entry is not None and entry.price is not None:
        return entry.price
    return price_table().listed(connection.preset.id, model)


def suggested_models(connection: Connection) -> list[str]:
    """The models offered before the service's own list is fetched: its suggestion and its priced ones."""
    known = price_table().models_of(connection.preset.id)
    first = [connection.preset.suggested] if connection.preset.suggested else []
    return first + [m for m in known if m not in first]


def store_keys(connection: Connection, new_keys: Sequence[str]) -> None:
    """Keep ``new_keys`` as the service's next keys (one already stored is skipped)."""
    if new_keys and connection.key is None:
        raise InvalidInput(f"{connection.preset.name} at {connection.base_url} takes no API key.")
    stored = key_list.api_keys(connection.key) if connection.key else []
    for value in new_keys:
        if value.strip() and value.strip() not in stored:
            key_list.add_key(connection.key or "", value)
            stored.append(value.strip())


def add_model(paths: UserPaths, connection: Connection, model: str, listed: Sequence[ListedModel] = ()) -> Added:
    """``model`` of ``connection`` in models.toml, priced, last in its location's tier (made when missing)."""
    model = model.strip()
    if not model:
        raise InvalidInput(
            "Choose a model first: fetch the service's list (`hearth providers models NAME`), or give its name."
        )
    price = listed_price(connection, model, listed)
    entry = next((m for m in listed if m.id == model), None)
    table = connection.model_table(model, price, entry.context if entry else None)
    text, tier = with_service_model(config_edit.current_text(paths), paths.user_config_file, connection, table)
    config = config_edit.save(paths, text)
    return Added(connection.model_id(model), tier, price, config)


def remove_service(paths: UserPaths, name: str, *, forget_keys: bool) -> list[str]:
    """The service's models out of models.toml (and its keys out of the keychain); returns the models removed."""
    text = config_edit.current_text(paths)
    config = parse_config(text, paths.user_config_file)
    service = service_named(config, name)
    if service is None:
        raise InvalidInput(f"No provider named '{name}' is set up. `hearth providers list` shows them.")
    config_edit.save(paths, without_models(text, paths.user_config_file, service.models))
    if forget_keys and service.key:
        while key_list.status(service.key).stored and key_list.status(service.key).stored[0].found_in == "keychain":
            key_list.remove_key(service.key, 0)
    return service.models


def reorder_tiers(paths: UserPaths, order: Sequence[tuple[str, Sequence[str]]]) -> Config:
    """The tiers in ``order`` (each with its models), checked like a start-up before it is saved."""
    text = with_tier_order(config_edit.current_text(paths), paths.user_config_file, order)
    return config_edit.save(paths, text)


def connection_named(config: Config, name: str) -> Connection:
    """The service set up as ``name`` in models.toml, else the known provider ``name`` as shipped."""
    service = service_named(config, name)
    if service is None:
        return Connection.of(preset(name))
    model = config.models[service.models[0]]
    known = service.preset or preset("openai-compatible").model_copy(update={"wire": model.provider})
    return Connection(known, service.name, service.base_url, service.location, service.key)


def widened_for(privacy: Privacy, location: Location) -> Privacy:
    """The most private policy, no narrower than ``privacy``, that lets ``location`` be asked (asking first)."""
    order = list(Privacy)  # from most to least private
    return next(p for p in order[order.index(privacy) :] if allowance(p, location) is not Allowance.FORBIDDEN)


def allow_location(paths: UserPaths, location: Location) -> Config:
    """Widen the privacy setting just enough for ``location``: the user's click on "Allow …"."""
    text = config_edit.current_text(paths)
    current = parse_config(text, paths.user_config_file).settings.privacy
    wider = widened_for(current, location)
    values = {"settings": {"privacy": wider.value}}
    return config_edit.save(paths, config_edit.with_values(text, paths.user_config_file, values))
