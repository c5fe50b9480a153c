"""Asking a stronger model: which tier answered the message on show, and which tier is stronger.

A re-ask always goes to a tier strictly above the one whose answer is on show
(also when that answer was stopped half-way), and only to one the policy lets
the message reach. When there is none, the error says whether none is
configured or none is allowed, so the window and the terminal can offer the
way to add one.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.core.errors import NoStrongerModel
from app.core.routing.cascade import Cascade
from app.core.storage.rows import AttemptRow


def answered_tier(attempts: Sequence[AttemptRow], content: str, tiers: Sequence[str]) -> int:
    """The index of the tier whose answer the message shows: the attempt whose text it shows
    (an answer stopped half-way included), else the highest tier tried, else the first."""
    known = [attempt for attempt in attempts if attempt.tier in tiers]
    showing = [attempt for attempt in known if attempt.text == content]
    answered = [attempt for attempt in showing if attempt.error is None]
    if answered or showing:
        return tiers.index((answered or showing)[-1].tier)
    return max((tiers.index(attempt.tier) for attempt in known), default=0)


def stronger_tier(cascade: Cascade, current: int) -> int:
    """The first tier above ``current`` the message may reach. Raises NoStrongerModel otherwise."""
    start, why = cascade.next_allowed(current)
    if start is not None:
        return start
    if current + 1 >= len(cascade.tiers):
        raise NoStrongerModel(f"there is no tier above {cascade.tiers[current].name}.", configured=False)
    raise NoStrongerModel(why, configured=True)
