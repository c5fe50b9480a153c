"""hearth eval and hearth calibrate on real questions with the real model."""

from __future__ import annotations

import json
import re
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
    return EvalItem(id="x", prompt=fields.pop("prompt", "?"), **fields)


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
        # The question's own numbers, restated, are not the answer.
        ({"prompt": "What is 80 plus 29?", "checker": "number", "answer": "109"}, "80 + 29 = 109.", True),
        ({"prompt": "What is 80 plus 29?", "checker": "number", "answer": "109"}, "80 + 29 = 149.", False),
        ({"prompt": "What is 5 times 1?", "checker": "number", "answer": "5"}, "5 times 1 is 5.", True),
        # A minus between numbers is the operator, not the result's sign.
        ({"prompt": "What is 12 minus 21?", "checker": "number", "answer": "-9"}, "12-21=-9", True),
        # "A" as an article is not option A.
        ({"checker": "choice", "answer": "C", "options": {"A": "cat", "C": "kangaroo"}}, "A kangaroo. C", True),
        ({"checker": "choice", "answer": "A", "options": {"A": "cat", "C": "kangaroo"}}, "A kangaroo.", False),
        ({"checker": "choice", "answer": "A"}, "A", True),
    ],
)
def test_answers_are_judged_by_the_items_rule(fields, answer: str, expected: bool):
    assert judge(item(**fields), answer) is expected


KINDS = ("facts", "choice", "arithmetic", "instructions", "mmlu")
GEOGRAPHY = r"\b(capital|countr(y|ies)|continent|cit(y|ies)|river|mountain|ocean|island|province|located)\b"


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_of_shipped_data_has_disjoint_halves_and_no_geography(kind: str):
    calibrate = load_items(DATA / f"{kind}_calibrate.jsonl")
    evaluate = load_items(DATA / f"{kind}_eval.jsonl")
    assert len(calibrate) >= 150 and len(evaluate) >= 150
    assert not {i.prompt for i in calibrate} & {i.prompt for i in evaluate}, "the halves overlap"
    assert not {i.id for i in calibrate} & {i.id for i in evaluate}
    if kind != "mmlu":  # MMLU's geography questions were there before; the new sets have none
        assert not [i.prompt for i in calibrate + evaluate if re.search(GEOGRAPHY, i.prompt, re.IGNORECASE)]
    assert all(i.source for i in calibrate + evaluate)


def test_the_chat_data_loads():
    assert len(load_items(DATA / "chat.jsonl")) >= 40


def test_a_broken_data_line_is_named(tmp_path: Path):
    data = tmp_path / "bad.jsonl"
    data.write_text('{"id": "a", "prompt": "hi", "accept": ["x"]}\n{"id": "b", "prompt": "hi"}\n')
    with pytest.raises(DataError, match=r"bad.jsonl, line 2: .*exactly one of"):
        load_items(data)


def test_a_number_to_check_against_must_be_a_number(tmp_path: Path):
    data = tmp_path / "sums.jsonl"
    data.write_text('{"id": "a", "prompt": "What is 2 plus 2?", "checker": "number", "answer": "four"}\n')
    with pytest.raises(DataError, match=r"sums.jsonl, line 1: .*needs a number"):
        load_items(data)


def hearth(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, cwd=REPO, timeout=600)


@pytest.mark.timeout(600)  # two models answer, one after the other
def test_eval_reports_the_escalation_metrics_and_draws_them(hearth_home: Path, model_file: Path, tmp_path: Path):
    write_user_config(hearth_home, config_text(model_file, privacy="local-and-self-hosted"))
    out = tmp_path / "report"
    result = hearth("eval", str(DATA / "chat.jsonl"), "--limit", "8", "--max-tokens", "24", "--out", str(out))
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["tiers"]["local"]["items"] == 8 and 0 <= report["tiers"]["local"]["accuracy"] <= 1
    # Every tier, the plain model's too, has its own numbers; the plain model ran on the same questions.
    assert set(report["per_tier"]) == {"local", "self-hosted", "plain"}
    for tier in ("local", "plain"):
        numbers = report["per_tier"][tier]
        assert numbers["items"] == 8 and numbers["scored_items"] == 8
        assert 0 <= numbers["ece"] <= 1 and (numbers["auroc"] is None or 0 <= numbers["auroc"] <= 1)
        assert (
            0 <= numbers["deferral"]["cpt_80"] <= 1 and numbers["deferral"]["cpt_50"] <= numbers["deferral"]["cpt_80"]
        )
        assert numbers["deferral"]["oracle_area"] >= numbers["deferral"]["random_area"]
    assert (
        report["per_tier"]["self-hosted"]["scored_items"] == 0 and report["per_tier"]["self-hosted"]["deferral"] is None
    )
    baseline = report["baseline"]
    assert baseline["accuracy"] == report["per_tier"]["plain"]["accuracy"]
    assert baseline["local_accuracy_minus_plain"] == pytest.approx(
        report["per_tier"]["local"]["accuracy"] - baseline["accuracy"]
    )
    # The self-hosted tier's server is not running: it failed, and the report says what it assumed instead.
    assert report["tiers"]["self-hosted"]["failed"] == 8 and report["strong_tier"] is None
    assert "assumed to answer every question correctly" in report["assumption"]
    assert report["auroc"] is None or 0 <= report["auroc"] <= 1
    deferral = report["deferral"]
    assert deferral["curve"]["accuracy"][-1] == 1.0 and len(deferral["curve"]["rates"]) == 9
    assert deferral["area"] >= deferral["random_area"] - 0.25
    assert len(report["results"]) == 24
    assert (out / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "AUROC" in result.stdout and "CPT(80%)" in result.stdout
    assert "plain" in result.stdout and "minus the plain model" in result.stdout


@pytest.mark.server
@pytest.mark.timeout(600)
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
