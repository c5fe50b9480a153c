"""Where a newly downloaded local model joins the tiers, and why, in words the window and the CLI show.

The rule, for a model that is stronger (a larger file) than the one answering first:

- it runs at reading speed or better here: it answers first. The model that answered
  first stays in that tier behind it, and answers when the new one cannot be loaded
  (a tier's models stand in for each other). Summaries follow the model that answers first.
- it is slow here: the small model keeps answering first, and the new one becomes a tier
  of its own right after it, marked slow: an unsure answer climbs to it before any
  server or cloud, and a quick answer skips it.

A model no stronger than the one answering first stands in for it, in the first tier.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import tomlkit

from app.core.catalog.fit import Fit, Speed
from app.core.config import edit as config_edit
from app.core.config.load import parse_config
from app.core.config.schema import Config, LocalModel
from app.core.models.fetch import installed_model_file
from app.core.paths import UserPaths

STRONGER_TIER = "local-large"


@dataclass(frozen=True)
class Placement:
    model_id: str
    tiers: tuple[tuple[str, tuple[str, ...]], ...]  # the ladder after: each tier's name and models
    why: str

    def lines(self) -> list[str]:
        ladder = " → ".join(f"{name} [{', '.join(models)}]" for name, models in self.tiers)
        return [self.why, f"The ladder is now: {ladder}"]


def _first_size(config: Config, paths: UserPaths) -> int:
    first = config.models[config.tiers[0].models[0]]
    assert isinstance(first, LocalModel)
    path = installed_model_file(first, paths.models)
    return path.stat().st_size if path.exists() else 0


def _rearranged(config: Config, new_id: str, stronger: bool, speed: Speed) -> tuple[list[dict[str, Any]], str]:
    tiers = [
        {"name": t.name, "models": [m for m in t.models if m != new_id], "slow": t.slow, "images": t.images}
        for t in config.tiers
    ]
    tiers = [t for t in tiers if t["models"]] or tiers[:1]
    first = tiers[0]
    incumbent = first["models"][0] if first["models"] else None
    if stronger and speed in (Speed.FAST, Speed.USABLE):
        first["models"].insert(0, new_id)
        pace = "fast" if speed is Speed.FAST else "at about reading speed"
        why = f"{new_id} now answers first: it is stronger than {incumbent} and runs {pace} on this computer."
        if incumbent:
            why += f" {incumbent} stays behind it and answers whenever {new_id} cannot be loaded."
    elif stronger:
        slot = next((t for t in tiers if t["name"] == STRONGER_TIER), None)
        if slot is None:
            slot = {"name": STRONGER_TIER, "models": [], "slow": True, "images": False}
            tiers.insert(1, slot)
        slot["models"].insert(0, new_id)
        why = (
            f"{incumbent} still answers first, because {new_id} would be slow on this computer. Unsure answers "
            f"climb to {new_id} (tier {STRONGER_TIER}) before any server or cloud; quick answers skip it."
        )
    else:
        first["models"].insert(1, new_id)
        why = f"{incumbent} still answers first (it is the larger model); {new_id} answers when it cannot be loaded."
    return tiers, why


def join_ladder(paths: UserPaths, new_id: str, model: dict[str, Any], fit: Fit) -> Placement:
    """Add the model to the user's models.toml and place it on the ladder; returns the new ladder and why."""
    file = paths.user_config_file
    text = config_edit.current_text(paths)
    config = parse_config(text, file)
    size = (paths.models / model["file"]).stat().st_size
    stronger = size > _first_size(config, paths)
    tiers, why = _rearranged(config, new_id, stronger, fit.speed)
    document = tomlkit.parse(text)
    models = document.setdefault("models", tomlkit.table(is_super_table=True))
    entry = tomlkit.table()
    for key, value in model.items():
        entry[key] = value
    models[new_id] = entry
    array = tomlkit.aot()
    for tier in tiers:
        table = tomlkit.table()
        table["name"], table["models"] = tier["name"], tier["models"]
        for flag in ("slow", "images"):
            if tier[flag]:
                table[flag] = True
        array.append(table)
    document["tiers"] = array
    config_edit.save(paths, tomlkit.dumps(document))
    return Placement(new_id, tuple((t["name"], tuple(t["models"])) for t in tiers), why)
