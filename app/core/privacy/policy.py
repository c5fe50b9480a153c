"""The privacy policy: which tiers a message may reach, and when to ask first."""

from __future__ import annotations

from enum import StrEnum

from app.core.config.schema import Location, Privacy


class Allowance(StrEnum):
    ALLOWED = "allowed"
    ASK = "ask"
    FORBIDDEN = "forbidden"


_RULES: dict[Privacy, dict[Location, Allowance]] = {
    Privacy.LOCAL_ONLY: {
        Location.LOCAL: Allowance.ALLOWED,
        Location.SELF_HOSTED: Allowance.FORBIDDEN,
        Location.CLOUD: Allowance.FORBIDDEN,
    },
    Privacy.SELF_HOSTED: {
        Location.LOCAL: Allowance.ALLOWED,
        Location.SELF_HOSTED: Allowance.ALLOWED,
        Location.CLOUD: Allowance.FORBIDDEN,
    },
    Privacy.CLOUD_WITH_CONSENT: {
        Location.LOCAL: Allowance.ALLOWED,
        Location.SELF_HOSTED: Allowance.ALLOWED,
        Location.CLOUD: Allowance.ASK,
    },
    Privacy.CLOUD_AUTO: {
        Location.LOCAL: Allowance.ALLOWED,
        Location.SELF_HOSTED: Allowance.ALLOWED,
        Location.CLOUD: Allowance.ALLOWED,
    },
}


def allowance(privacy: Privacy, location: Location) -> Allowance:
    return _RULES[privacy][location]


def narrowed(privacy: Privacy, location: Location) -> Privacy:
    """The widest policy, no wider than ``privacy``, that never sends anything to ``location``."""
    order = list(Privacy)  # from most to least private
    allowed = order[: order.index(privacy) + 1]
    return next(p for p in reversed(allowed) if allowance(p, location) is Allowance.FORBIDDEN)


PRIVACY_LABELS: dict[Privacy, str] = {
    Privacy.LOCAL_ONLY: "Local only",
    Privacy.SELF_HOSTED: "Local and self-hosted",
    Privacy.CLOUD_WITH_CONSENT: "Cloud after consent",
    Privacy.CLOUD_AUTO: "Cloud automatically",
}
