"""The settings of models that work together, as models.toml holds them (read by app/core/config.py)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


class Capability(StrEnum):
    """What a model may be good at: the tasks a request can be, and two qualities of its own."""

    REASONING = "reasoning"
    CODE = "code"
    WRITING = "writing"
    SUMMARISING = "summarising"
    EXTRACTION = "extraction"
    TRANSLATION = "translation"
    VISION = "vision"
    SPEED = "speed"
    COST = "cost"


def _once_each(good_at: list[Capability]) -> list[Capability]:
    twice = sorted({tag.value for tag in good_at if good_at.count(tag) > 1})
    if twice:
        raise ValueError(f"{', '.join(twice)} named more than once")
    return good_at


GoodAt = Annotated[
    list[Capability],
    AfterValidator(_once_each),
    Field(default_factory=list, description="what the model is good at: the capability map routes by it"),
]


class Planning(BaseModel):
    """Plan mode: a planner splits a request into parts, each answered like a message of its own, then joined."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    planner: str | None = Field(default=None, description="model that writes the plan; default: the first local")
    synthesiser: str | None = Field(default=None, description="model that joins the parts; default: the cascade")
    automatic: bool = Field(default=False, description="plan a request the router sees has several parts")
    parallel: bool = Field(default=True, description="run parts that need no other part side by side")
