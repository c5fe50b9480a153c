"""hearth eval and hearth calibrate on real questions with the real model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.confidence.calibration import load
from app.core.errors import DataError
from app.core.evaluation.harness import EvalItem, judge, load_items
from tests.conftest import REPO, config_text, write_user_config

DATA = REPO / "tests" / "data"


def item(**fields) -> EvalItem:
    return EvalItem(id="x", prompt="?", **fields)


@pytest.mark.parametrize(
    "fields, answer, expected",
    [
        ({"accept": ["Paris"]}, "The capital is Paris.", True),
        ({"accept": ["Paris"]}, "It is Parisian food.", False),
        ({"regex": r"\b(8|eight)\b"}, "A spider has eight legs.", True),
        ({"checker": "choice", "answer": "C"}, "C. True, False", True),
        ({"checker": "choice", "answer": "C"}, "The answer is B.", False),
        ({"checker": "choice", "answer": "B", "options": {"A": "red", "B": "blue"}}, "It is blue.", True),
        ({"checker": "number", "answer": "1200"}, "About 1,200 people.", True),
    ],
)
def test_answers_are_judged_by_the_items_rule(fields, answer: str, expected: bool):
    assert judge(item(**fields), answer) is expected


def test_the_shipped_data_loads():
    for name in ("chat.jsonl", "mmlu_calibrate.jsonl", "mmlu_eval.jsonl"):
        assert len(load_items(DATA / name)) >= 40
    calibrate = {i.prompt for i in load_items(DATA / "mmlu_calibrate.jsonl")}
    evaluate = {i.prompt for i in load_items(DATA / "mmlu_eval.jsonl")}
    assert not calibrate & evaluate, "the calibration and evaluation questions overlap"


def test_a_broken_data_line_is_named(tmp_path: Path):
    data = tmp_path / "bad.jsonl"
    data.write_text('{"id": "a", "prompt": "hi", "accept": ["x"]}\n{"id": "b", "prompt": "hi"}\n')
    with pytest.raises(DataError, match=r"bad.jsonl, line 2: .*exactly one of"):
        load_items(data)


def hearth(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, cwd=REPO, timeout=600)


def test_eval_reports_the_escalation_metrics_and_draws_them(hearth_home: Path, model_file: Path, tmp_path: Path):
    write_user_config(hearth_home, config_text(model_file, privacy="local-and-self-hosted"))
    out = tmp_path / "report"
    result = hearth("eval", str(DATA / "chat.jsonl"), "--limit", "12", "--max-tokens", "24", "--out", str(out))
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["tiers"]["local"]["items"] == 12 and 0 <= report["tiers"]["local"]["accuracy"] <= 1
    # The self-hosted tier's server is not running: it failed, and the report says what it assumed instead.
    assert report["tiers"]["self-hosted"]["failed"] == 12 and report["strong_tier"] is None
    assert "assumed to answer every question correctly" in report["assumption"]
    assert report["auroc"] is None or 0 <= report["auroc"] <= 1
    deferral = report["deferral"]
    assert deferral["curve"]["accuracy"][-1] == 1.0 and len(deferral["curve"]["rates"]) == 13
    assert deferral["area"] >= deferral["random_area"] - 0.25
    assert len(report["results"]) == 24
    assert (out / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "AUROC" in result.stdout and "CPT(80%)" in result.stdout


@pytest.mark.server
def test_eval_compares_with_a_real_stronger_tier(
    hearth_home: Path, model_file: Path, tmp_path: Path, llama_server: str
):
    write_user_config(hearth_home, config_text(model_file, privacy="local-and-self-hosted", server_url=llama_server))
    out = tmp_path / "report"
    result = hearth("eval", str(DATA / "chat.jsonl"), "--limit", "6", "--max-tokens", "16", "--out", str(out))
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["strong_tier"] == "self-hosted" and report["assumption"] is None
    assert report["tiers"]["self-hosted"]["answered"] == 6


def test_calibrate_writes_a_fit_and_threshold_the_app_then_uses(hearth_home: Path, model_file: Path):
    write_user_config(hearth_home, config_text(model_file))
    result = hearth(
        "calibrate", str(DATA / "chat.jsonl"), "--limit", "20", "--max-tokens", "24", "--target-rate", "0.25"
    )
    assert result.returncode == 0, result.stderr
    calibration = load(hearth_home / "data" / "calibration", "smollm2-135m")
    assert calibration is not None and calibration.examples == 20
    assert calibration.target == "escalation rate 25%" and 0 <= calibration.threshold <= 1
    assert "AUROC (5-fold, held out)" in result.stdout

    answer = json.loads(hearth("ask", "--json", "What is the capital of Italy?").stdout)
    assert f"{calibration.threshold:.2f}" in answer["reason"]
