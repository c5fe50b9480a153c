"""models.toml edits for services and tiers: add a service's model to a tier, remove a service, reorder tiers.

Each edit works on the TOML text with tomlkit (the user's comments stay) and is validated
like a start-up before anything is written (app/core/config/edit.save).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import AoT, Table

from app.core.config.edit import _document
from app.core.config.schema import Location
from app.core.errors import ConfigError
from app.core.services.connection import Connection

TIER_OF = {Location.SELF_HOSTED: "self-hosted", Location.CLOUD: "cloud"}


def _tiers(document: tomlkit.TOMLDocument, file: Path) -> AoT:
    tiers = document.get("tiers")
    if not isinstance(tiers, AoT) or not tiers:
        raise ConfigError("there is no tier to put the model in", file=file, key="tiers")
    return tiers


def with_service_model(text: str, file: Path, connection: Connection, table: Mapping[str, Any]) -> tuple[str, str]:
    """``text`` with ``table`` defined as a model of ``connection`` and last in its location's tier.

    The tier ("self-hosted" or "cloud") is made when missing: a self-hosted one before the first
    cloud tier, since a server of yours is tried before a paid service. Returns the text and the tier.
    """
    document = _document(text, file)
    model_id = connection.model_id(str(table["model"]))
    models = document.setdefault("models", tomlkit.table(is_super_table=True))
    entry = tomlkit.table()
    for key, value in table.items():
        entry[key] = value
    models[model_id] = entry
    tiers = _tiers(document, file)
    name = TIER_OF[connection.location]
    tier = next((t for t in tiers if t.get("name") == name), None)
    if tier is None:
        tier = tomlkit.table()
        tier["name"] = name
        tier["models"] = [model_id]
        cloud_at = next((i for i, t in enumerate(tiers) if t.get("name") == "cloud"), len(tiers))
        tiers.insert(cloud_at if connection.location is Location.SELF_HOSTED else len(tiers), tier)
    elif model_id not in tier["models"]:
        tier["models"].append(model_id)
    return tomlkit.dumps(document), name


def without_models(text: str, file: Path, model_ids: Sequence[str]) -> str:
    """``text`` without ``model_ids``: out of [models], their tiers (an emptied tier goes), and every mention."""
    document = _document(text, file)
    gone = set(model_ids)
    models = document.get("models", {})
    for model_id in gone:
        models.pop(model_id, None)
    tiers = _tiers(document, file)
    emptied: set[str] = set()
    for index in reversed(range(len(tiers))):
        tier = tiers[index]
        kept = [m for m in tier["models"] if m not in gone]
        if kept:
            tier["models"] = kept
        else:
            emptied.add(str(tier.get("name")))
            del tiers[index]
    ensemble = document.get("ensemble")
    if isinstance(ensemble, Table) and "models" in ensemble:
        ensemble["models"] = [m for m in ensemble["models"] if m not in gone]
    shadow = document.get("shadow")
    if isinstance(shadow, Table) and shadow.get("model") in gone:
        del shadow["model"]
    router = document.get("router")
    if isinstance(router, Table) and router.get("complex_start") in emptied:
        del router["complex_start"]
    return tomlkit.dumps(document)


def with_tier_order(text: str, file: Path, order: Sequence[tuple[str, Sequence[str]]]) -> str:
    """``text`` with its tiers in ``order`` (name, models), each keeping its other settings; a tier left out goes."""
    document = _document(text, file)
    tiers = _tiers(document, file)
    by_name = {str(t.get("name")): t for t in tiers}
    unknown = [name for name, _ in order if name not in by_name]
    if unknown:
        raise ConfigError(f"there is no tier named '{unknown[0]}'", file=file, key="tiers")
    arranged = AoT([])
    for name, models in order:
        tier = by_name[name]
        tier["models"] = list(models)
        arranged.append(tier)
    document["tiers"] = arranged
    return tomlkit.dumps(document)
