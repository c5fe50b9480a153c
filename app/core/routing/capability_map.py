"""The capability map: which configured model is good at which task, read from each model's ``good_at``.

``grid`` draws it (tasks against models, with the gaps); ``pick`` is the
routing rule: for a task, the cheapest model the map says is good at it among
the tiers that may answer, ties going to the earlier tier.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.core.config.capabilities import Capability
from app.core.config.schema import Config, RemoteBase, Tier
from app.core.routing.tasks import Task


@dataclass(frozen=True)
class CapabilityGrid:
    capabilities: list[Capability]
    models: list[str]  # in tier order, then the models no tier uses
    good: dict[str, set[Capability]]  # model id -> what it is good at

    def cell(self, capability: Capability, model_id: str) -> bool:
        return capability in self.good[model_id]

    def gaps(self) -> list[Capability]:
        """What no configured model is good at."""
        return [c for c in self.capabilities if not any(c in self.good[m] for m in self.models)]

    def describe_gaps(self) -> str:
        gaps = self.gaps()
        if not gaps:
            return "Every task has a model that is good at it."
        return f"No model here is good at {', '.join(c.value for c in gaps)}."


def grid(config: Config) -> CapabilityGrid:
    in_tiers = [m for tier in config.tiers for m in tier.models]
    models = list(dict.fromkeys(in_tiers + list(config.models)))
    return CapabilityGrid(list(Capability), models, {m: set(config.models[m].good_at) for m in models})


def price(config: Config, model_id: str) -> float:
    """USD per million tokens in and out together (a local model: nothing)."""
    model = config.models[model_id]
    return model.price_in + model.price_out if isinstance(model, RemoteBase) else 0.0


@dataclass(frozen=True)
class MapChoice:
    task: Task
    model_id: str | None  # None: no model that may answer is good at the task
    tier: str | None
    reason: str


def pick(config: Config, task: Task, tiers: Sequence[Tier]) -> MapChoice:
    """Where a request of ``task`` starts, among ``tiers`` (those that may answer it)."""
    if task is Task.GENERAL:
        return MapChoice(task, None, None, "")
    capability = Capability(task.value)
    good = [
        (price(config, m), order, m, tier.name)
        for order, tier in enumerate(tiers)
        for m in tier.models
        if capability in config.models[m].good_at
    ]
    if not good:
        everywhere = [m for m, model in config.models.items() if capability in model.good_at]
        if everywhere:
            return MapChoice(
                task,
                None,
                None,
                f"The map's models for {task.value} ({', '.join(everywhere)}) may not answer this message.",
            )
        return MapChoice(task, None, None, f"No model in the map is good at {task.value}.")
    cost, _, model_id, tier = min(good)
    cheapest = "free, on this computer" if cost == 0 else f"${cost:g} per million tokens"
    return MapChoice(
        task, model_id, tier, f"The capability map: {model_id} ({tier}, {cheapest}) is good at {task.value}."
    )
