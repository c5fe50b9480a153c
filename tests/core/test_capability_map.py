"""The capability map: what each model is good at, validated with its configuration, drawn as a grid, and
used by the router to start a request at the cheapest allowed model good at its task."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.config.load import parse_config
from app.core.config.schema import Config, Privacy
from app.core.errors import ConfigError
from app.core.evaluation.routing_eval import evaluate_routing, load_routing_items
from app.core.routing.capability_map import grid
from app.core.routing.router import Request, plan
from app.core.routing.tasks import Task, recognise
from tests.conftest import REPO

DATA = REPO / "tests" / "data"


def config(local: list[str], server: list[str], cloud: list[str], **router: object) -> Config:
    return Config.model_validate(
        {
            "router": router,
            "tiers": [
                {"name": "local", "models": ["small"]},
                {"name": "self-hosted", "models": ["server"]},
                {"name": "cloud", "models": ["gpt"], "images": True},
            ],
            "models": {
                "small": {"provider": "llama-cpp", "file": "small.gguf", "good_at": local},
                "server": {
                    "provider": "openai-compatible",
                    "location": "self-hosted",
                    "base_url": "http://h/v1",
                    "model": "m",
                    "good_at": server,
                },
                "gpt": {
                    "provider": "openai-compatible",
                    "location": "cloud",
                    "base_url": "https://api/v1",
                    "model": "g",
                    "price_in": 2.5,
                    "price_out": 10.0,
                    "good_at": cloud,
                },
            },
        }
    )


TOML = """
[[tiers]]
name = "local"
models = ["small"]

[models.small]
provider = "llama-cpp"
file = "small.gguf"
good_at = {good_at}
"""


def test_a_misspelt_capability_is_named_with_its_key_and_line():
    with pytest.raises(ConfigError) as caught:
        parse_config(TOML.format(good_at='["speed", "coding"]'), Path("models.toml"))
    message = str(caught.value)
    assert "models.small.good_at" in message and "line 9" in message and "'code'" in message


def test_a_capability_named_twice_is_refused():
    with pytest.raises(ConfigError, match="code named more than once"):
        parse_config(TOML.format(good_at='["code", "speed", "code"]'), Path("models.toml"))


def test_the_grid_shows_tasks_against_models_and_the_gaps():
    drawn = grid(config(["speed", "cost"], ["code", "reasoning"], ["writing", "vision", "reasoning"]))
    assert drawn.models == ["small", "server", "gpt"]
    assert drawn.cell(Task.CODE, "server") and not drawn.cell(Task.CODE, "gpt")  # type: ignore[arg-type]
    assert [gap.value for gap in drawn.gaps()] == ["summarising", "extraction", "translation"]
    assert drawn.describe_gaps() == "No model here is good at summarising, extraction, translation."


def test_a_code_request_starts_at_the_model_the_map_says_is_good_at_code():
    route = plan(config([], ["code"], ["code"]), Request("Fix this Python traceback for me"), Privacy.CLOUD_AUTO, None)
    assert route.start == "self-hosted" and route.task == "code" and route.model == "server"
    assert route.reasons[0].startswith("Task: code (it says “Python”).")
    assert "The capability map: server (self-hosted, free, on this computer) is good at code." in route.reasons[0]


def test_the_cheapest_model_good_at_the_task_wins_and_a_local_one_is_free():
    cheap = config(["writing"], [], ["writing"])
    assert plan(cheap, Request("Draft a note to my neighbour"), Privacy.CLOUD_AUTO, None).start == "local"
    dear = config([], [], ["writing"])
    route = plan(dear, Request("Draft a note to my neighbour"), Privacy.CLOUD_AUTO, None)
    assert route.start == "cloud" and "gpt (cloud, $12.5 per million tokens)" in route.reasons[0]


def test_privacy_still_decides_the_map_only_chooses_among_allowed_tiers():
    route = plan(config([], [], ["code"]), Request("Write a SQL query"), Privacy.LOCAL_ONLY, None)
    assert route.start == "local" and route.model is None
    assert "The map's models for code (gpt) may not answer this message." in route.reasons[1]


def test_no_model_good_at_the_task_keeps_todays_routing_and_says_so():
    request = Request("What is wrong here?\n```\nSELECT name FROM users WHERE\n```")
    route = plan(config([], [], [], complex_start="cloud"), request, Privacy.CLOUD_AUTO, None)
    assert route.start == "cloud"  # the complexity rule, as before
    assert "No model in the map is good at code." in route.reasons[0]


def test_routing_by_task_can_be_turned_off():
    off = config([], ["code"], [], by_task=False)
    assert plan(off, Request("Fix this Python bug"), Privacy.CLOUD_AUTO, None).start == "local"


@pytest.mark.parametrize(
    ("text", "task"),
    [
        ("Write a Python function that sorts a list", Task.CODE),  # code, not writing
        ("Translate 'good night' into Dutch", Task.TRANSLATION),
        ("TL;DR of this thread please", Task.SUMMARISING),
        ("Who wrote Hamlet?", Task.GENERAL),
    ],
)
def test_the_rules_recognise_the_task(text: str, task: Task):
    assert recognise(text).task is task


def test_an_attached_image_makes_it_a_vision_request():
    assert recognise("What is this?", has_image=True).task is Task.VISION


def test_a_request_of_several_tasks_is_multi_part():
    found = recognise("Summarise this feedback, then draft a reply e-mail and translate it into French.")
    assert found.multi_part and found.tasks == (Task.SUMMARISING, Task.WRITING, Task.TRANSLATION)
    assert not recognise("Summarise this feedback in three points.").multi_part


def test_the_labelled_sets_load_and_the_report_counts_the_confusion():
    items = load_routing_items(DATA / "routing_heldout.jsonl")
    report = evaluate_routing(items, recognise)
    assert report.items == 40 and sum(sum(row.values()) for row in report.confusion.values()) == 40
    assert report.correct == sum(report.confusion[label].get(label, 0) for label in report.confusion)
    assert len(report.misses) == report.items - report.correct


def test_hearth_eval_routing_reports_accuracy_and_the_confusion(tmp_path: Path, hearth_home: Path):
    result = subprocess.run(
        [sys.executable, "-m", "app", "eval", "--routing", str(DATA / "routing.jsonl"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "rules: routing accuracy" in result.stdout and "label \\ got" in result.stdout
    written = json.loads((tmp_path / "routing.json").read_text())
    rules = written["arms"]["rules"]
    assert rules["items"] == 83 and set(rules["confusion"]) == {task.value for task in Task}


def test_a_bad_line_in_the_routing_set_is_named(tmp_path: Path, hearth_home: Path):
    data = tmp_path / "bad.jsonl"
    data.write_text('{"id": "a", "text": "hi", "task": "general"}\n{"id": "b", "text": "x", "task": "poetry"}\n')
    result = subprocess.run(
        [sys.executable, "-m", "app", "eval", "--routing", str(data)], capture_output=True, text=True, cwd=REPO
    )
    assert result.returncode == 1 and "line 2" in result.stderr and "task" in result.stderr
