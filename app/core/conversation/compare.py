"""Compare: the same message answered by another tier the policy allows, side by side.

The other answer is recorded as one more attempt of the message, without taking its place; the
user then picks the better one, which becomes the answer on show, and each of the two becomes a
label for its model's confidence (app/core/conversation/learning). The other tier is the first one above the
answer's own that the message may reach, else the nearest below it (a cloud answer is compared
with the local model's); it is asked through the outgoing gate like any other attempt, with
consent where the policy asks for it.
"""

from __future__ import annotations

from app.core.conversation.learning.learner import Learner
from app.core.errors import HearthError, NoStrongerModel
from app.core.routing.cascade import Cascade
from app.core.storage.store import Store


def other_tier(cascade: Cascade, current: int) -> int:
    """The tier to compare with: above ``current`` first, then below. Raises NoStrongerModel if none may answer."""
    above = range(current + 1, len(cascade.tiers))
    below = range(current - 1, -1, -1)
    for index in [*above, *below]:
        tier = cascade.tiers[index]
        if tier.name not in cascade.excluded and any(cascade.passage.barrier(m) is None for m in tier.providers):
            return index
    if len(cascade.tiers) < 2:
        raise NoStrongerModel("there is only one tier, so there is nothing to compare with.", configured=False)
    raise NoStrongerModel("the privacy policy lets this conversation reach no other tier.", configured=True)


def only(cascade: Cascade, tier: str) -> Cascade:
    """A cascade that asks only the tier named ``tier`` (it does not go on to another when unsure)."""
    return Cascade(
        [plan for plan in cascade.tiers if plan.name == tier],
        passage=cascade.passage,
        cooldowns=cascade.cooldowns,
        scorer=cascade.scorer,
        max_answer_tokens=cascade.max_answer_tokens,
    )


def choose(store: Store, learner: Learner | None, answer_id: int, chosen_id: int, other_id: int) -> None:
    """The user found attempt ``chosen_id`` better than ``other_id``: show it, and label both."""
    attempts = {attempt.id: attempt for attempt in store.attempts(answer_id)}
    if chosen_id not in attempts or other_id not in attempts or chosen_id == other_id:
        raise HearthError(f"Those are not two answers to message {answer_id}.")
    chosen = attempts[chosen_id]
    store.update_message(answer_id, chosen.text, "complete" if chosen.error is None else "incomplete")
    if learner is not None:
        learner.compared(store, chosen, attempts[other_id])
