"""hearth eval --workflow: the strongest model alone, the cascade and plan mode on labelled multi-part tasks,
in one run, with success, routing accuracy, latency, cost and cost per quality-adjusted output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.evaluation.workflow_eval import ArmResult, WorkflowPart, load_workflow_items, routed_right, summarise
from app.core.routing.tasks import Task
from tests.conftest import REPO, config_text, write_user_config

DATA = REPO / "tests" / "data" / "workflow.jsonl"


def result(arm: str, right: int, routed: int | None, cost: float, latency: float = 1000.0) -> ArmResult:
    return ArmResult(arm, "item", right, 2, routed, latency, cost, 10, "answer")


def test_the_summary_divides_cost_by_the_share_of_parts_right():
    summaries = {
        s.arm: s
        for s in summarise(
            [
                result("strongest", 2, None, 0.02),
                result("strongest", 1, None, 0.02),
                result("plan", 1, 2, 0.0),
                result("plan", 0, 1, 0.0),
                result("cascade", 0, 1, 0.01),
                result("cascade", 0, 0, 0.01),
            ]
        )
    }
    strongest = summaries["strongest"]
    assert strongest.success_rate == 0.5 and strongest.quality == 0.75 and strongest.routing_accuracy is None
    assert strongest.cost_per_quality == pytest.approx(0.04 / 0.75)
    assert summaries["plan"].routing_accuracy == 0.75 and summaries["plan"].cost_per_quality == 0.0
    assert summaries["cascade"].cost_per_quality is None  # nothing right: no price buys a right answer here


def test_routing_counts_each_recognised_task_once():
    labelled = [Task.SUMMARISING, Task.WRITING, Task.WRITING]
    assert routed_right(labelled, [Task.WRITING, Task.SUMMARISING]) == 2
    assert routed_right(labelled, [Task.CODE]) == 0


def test_the_labelled_set_loads_and_every_part_is_checkable():
    items = load_workflow_items(DATA)
    assert len(items) == 8 and all(len(item.parts) >= 2 for item in items)
    assert WorkflowPart(task=Task.GENERAL, accept=["Paris"]).right("It is Paris.")
    assert not WorkflowPart(task=Task.REASONING, regex=r"\b42\b").right("It is 420.")


def test_hearth_eval_workflow_runs_every_arm_in_one_command(tmp_path: Path, hearth_home: Path, model_file: Path):
    write_user_config(hearth_home, config_text(model_file, max_answer_tokens=12))
    result = subprocess.run(
        [sys.executable, "-m", "app", "eval", "--workflow", str(DATA), "--limit", "1", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    written = json.loads((tmp_path / "workflow.json").read_text())
    assert [arm["arm"] for arm in written["arms"]] == ["strongest", "cascade", "plan", "refine"]
    assert all(arm["latency_ms"] > 0 and arm["cost"] == 0.0 for arm in written["arms"])  # all on this computer
    assert (tmp_path / "workflow.png").stat().st_size > 10_000
    assert "cost/quality" in result.stdout
