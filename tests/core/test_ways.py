"""`hearth stats` and the dashboard say how each way of answering did in real use: the cascade, plan mode,
draft then refine — answers, share right of those rated, time, cost and cost per right answer."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from app.core.answers import Attempt
from app.core.config.load import default_config_file, load_config_file
from app.core.conversation.teamwork.plans import Part
from app.core.conversation.teamwork.steps import Step
from app.core.evaluation import stats
from app.core.evaluation.dashboard import overview
from app.core.evaluation.ways import describe_way
from app.core.routing.tasks import Task
from app.core.storage.store import Store


def answered(store: Store, steps: list[Step | None], cost: float, rating: int | None) -> int:
    conversation = store.create_conversation("Question")
    store.add_message(conversation, "user", "Summarise this, then write a reply.")
    answer = store.add_message(conversation, "assistant", "The joined answer.")
    for position, step in enumerate(steps):
        attempt = Attempt("local", "smollm2-135m", "local", "The joined answer.", 0.5, latency_ms=100.0, cost=cost)
        store.put_attempt(answer, position, attempt if step is None else _with_step(attempt, step))
    if rating is not None:
        store.add_feedback(answer, rating)
    return answer


def _with_step(attempt: Attempt, step: Step) -> Attempt:
    return replace(attempt, step=step.model_dump_json())


def test_each_way_of_answering_is_counted_with_its_share_right_and_what_a_right_answer_cost(tmp_path: Path):
    store = Store(tmp_path / "hearth.db")
    try:
        part = Step.of(Part(1, Task.SUMMARISING, "Summarise this."))
        plan = [Step(role="planner"), part, Step(role="synthesis")]
        answered(store, plan, 0.01, 1)
        answered(store, plan, 0.01, -1)
        answered(store, [None], 0.0, 1)
        answered(store, [None], 0.0, None)
        answered(store, [Step(role="draft"), Step(role="refine")], 0.02, 1)
        config = load_config_file(default_config_file())
        report = stats.compute(store, config)
        shown = overview(store, config)
    finally:
        store.close()
    cascade, planned, refined = (report.ways[name] for name in ("cascade", "plan", "draft and refine"))
    assert (cascade.answers, cascade.rated, cascade.right, cascade.cost) == (2, 1, 1, 0.0)
    assert (planned.answers, planned.rated, planned.success_rate) == (2, 2, 0.5)
    assert planned.cost == pytest.approx(0.06) and planned.cost_per_quality == pytest.approx(0.06)  # $0.03 / 0.5
    assert refined.cost_per_quality == pytest.approx(0.04) and planned.seconds.p50 is not None
    assert describe_way(planned).startswith("2 answers (0 escalated), 50% right of 2 rated, median ")
    assert "$0.0600 per right answer" in describe_way(planned) and describe_way(refined).startswith("1 answer (0")
    assert report.as_json()["ways"]["plan"]["success_rate"] == 0.5
    assert shown.ways == report.ways, "the dashboard shows the same figures"
