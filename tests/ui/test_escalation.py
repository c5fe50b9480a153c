"""One meaning of "escalated": the badge, ``hearth stats`` and the dashboard count the same answers.

Escalated: the cascade, on its own, showed the answer of another tier than the first one it asked.
A retry on the same tier is no climb; nor is a climb whose answers failed, leaving the first tier's
answer on show; nor is an answer the user asked a stronger model for (that is a routing miss).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.answers import Attempt
from app.core.config.load import default_config_file, load_config_file
from app.core.evaluation import dashboard, stats
from app.core.storage.store import Store
from app.ui.conversation_model import badge_from_rows

UNSURE = Attempt("local", "small", "local", "Blue?", confidence=0.1, reason="Unsure.")
SURE = Attempt("local", "small", "local", "Blue.", confidence=0.9)
FAILED = Attempt("local", "small", "local", error="The model stopped.", reason="Trying small again.")
SERVER = Attempt("self-hosted", "server", "self-hosted", "Blue, like the sky.", confidence=0.8)
SERVER_DOWN = Attempt("self-hosted", "server", "self-hosted", error="Cannot reach server.")


def answered(store: Store, attempts: list[Attempt], reask: list[Attempt] = ()) -> int:
    turn = store.begin_turn(None, "Name a colour.", {})
    store.add_attempts(turn.answer_id, attempts)
    store.add_attempts(turn.answer_id, list(reask), trigger="user")
    shown = [a for a in [*attempts, *reask] if a.ok]
    store.update_message(turn.answer_id, (list(reask) or shown)[-1].text, "complete")
    return turn.answer_id


@pytest.mark.parametrize(
    ("attempts", "reask", "escalated"),
    [
        ([SURE], [], False),
        ([UNSURE, SERVER], [], True),
        ([FAILED, SURE], [], False),  # a retry on the same tier
        ([SURE, SERVER_DOWN], [], False),  # the climb failed: the local answer is on show
        ([SURE], [SERVER], False),  # the user asked a stronger model
    ],
    ids=["local", "climbed", "retried", "climb-failed", "re-asked"],
)
def test_the_badge_stats_and_dashboard_agree_on_what_escalated(
    tmp_path: Path, attempts: list[Attempt], reask: list[Attempt], escalated: bool
):
    config = load_config_file(default_config_file())
    with Store(tmp_path / "hearth.db") as store:
        answer_id = answered(store, attempts, reask)
        badge = badge_from_rows(store.attempts(answer_id), store.message(answer_id))
        report = stats.compute(store, config)
        overview = dashboard.overview(store, config)
    assert badge is not None and badge.escalated is escalated
    assert report.arms["A"].escalation_rate == float(escalated)
    assert sum(model.escalated_to for model in report.models.values()) == int(escalated)
    assert [share for _, share in overview.escalation_by_day] == [float(escalated)]
