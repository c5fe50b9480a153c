"""The router: before anything is generated, which tiers may answer and where to start.

It applies, in order, the decisions users configure in models.toml and
records each one in words: the privacy policy (forbidden tiers are dropped),
the data type (an image needs a tier that accepts images), urgency (a quick
answer skips slow tiers), the remaining budget (paid tiers stop when the
month's budget is spent) and complexity (long, multi-step or code requests
may start higher up).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from app.core.config.schema import Config, Privacy
from app.core.errors import HearthError
from app.core.privacy.policy import Allowance, allowance
from app.core.providers.pricing import Pricing

_CODE = re.compile(r"```|\b(def|class|function|import|SELECT|regex|stack trace|traceback|compile)\b|[{};]\s*$", re.M)
_STEPS = re.compile(
    r"\b(step by step|step-by-step|first\b.*\bthen|and then|plan|explain why|prove|derive)\b|^\s*\d+[.)]",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass(frozen=True)
class Request:
    text: str
    has_image: bool = False
    quick: bool = False

    @property
    def words(self) -> int:
        return len(self.text.split())

    @property
    def code(self) -> bool:
        return bool(_CODE.search(self.text))

    @property
    def multi_step(self) -> bool:
        return bool(_STEPS.search(self.text))


@dataclass(frozen=True)
class Route:
    tiers: list[str]  # the tiers that may answer, in order
    start: str  # the first one to ask
    reasons: list[str] = field(default_factory=list)
    excluded: dict[str, str] = field(default_factory=dict)  # tier -> why it may not answer this message

    def as_dict(self) -> dict[str, object]:
        return {"tiers": self.tiers, "start": self.start, "reasons": self.reasons}


class RoutingError(HearthError):
    pass


def plan(config: Config, request: Request, privacy: Privacy, budget_left: float | None) -> Route:
    tiers = list(config.tiers)
    reasons: list[str] = []
    excluded: dict[str, str] = {}

    def exclude(names: list[str], why: str) -> None:
        nonlocal tiers
        excluded.update({name: why for name in names})
        tiers = [t for t in tiers if t.name not in names]

    # A tier may mix locations: it is ruled out only when the policy allows none of its models (the
    # outgoing gate decides for each model of the others).
    forbidden = [
        t.name
        for t in tiers
        if all(allowance(privacy, config.models[m].location) is Allowance.FORBIDDEN for m in t.models)
    ]
    if forbidden:
        exclude(forbidden, f"the privacy policy '{privacy.value}' does not allow it")
        reasons.append(f"Privacy '{privacy.value}': not {', '.join(forbidden)}.")

    if request.has_image:
        blind = [t.name for t in tiers if not t.images]
        if len(blind) == len(tiers):
            raise RoutingError(
                "No tier that your privacy setting allows accepts images. Set `images = true` on a "
                "tier whose models can see images, or send the message without the image."
            )
        exclude(blind, "it does not accept images")
        reasons.append(f"Has an image: only {', '.join(t.name for t in tiers)} accept images.")

    if request.quick:
        slow = [t.name for t in tiers if t.slow]
        if slow and len(slow) < len(tiers):
            exclude(slow, "it is slow and you asked for a quick answer")
            reasons.append(f"Quick answer: skipping the slow {', '.join(slow)}.")

    if budget_left is not None and budget_left <= 0:
        pricing = Pricing(config)
        paid = [t.name for t in tiers if any(pricing.paid(m) for m in t.models)]
        if paid and len(paid) < len(tiers):
            exclude(paid, "this month's budget is spent")
            reasons.append(f"The monthly budget is spent: not {', '.join(paid)}.")

    if not tiers:
        raise RoutingError("No tier may answer this message with the current settings.")

    start = tiers[0].name
    complex_start = config.router.complex_start
    complexity = [
        why
        for why, on in (
            (f"{request.words} words", request.words >= config.router.complex_min_words),
            ("code", request.code),
            ("several steps", request.multi_step),
        )
        if on
    ]
    if complex_start and complexity:
        if complex_start in [t.name for t in tiers]:
            start = complex_start
            reasons.append(f"Complex request ({', '.join(complexity)}): starting at {complex_start}.")
        else:
            reasons.append(f"Complex request ({', '.join(complexity)}), but {complex_start} may not answer it.")
    reasons.append(f"Starting at {start}.")
    return Route([t.name for t in tiers], start, reasons, excluded)

