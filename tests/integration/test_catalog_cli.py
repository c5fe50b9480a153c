"""`hearth catalog`, `hearth fetch CATALOG_ID` and `hearth models --hardware`, run as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from app.core.config.load import load_config_file
from tests.integration.test_cli import hearth


def test_models_hardware_prints_the_ram_the_gpus_and_what_computes(hearth_home: Path):
    run = hearth("models", "--hardware")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("RAM: ") and " GB" in lines[0]
    assert any(line.startswith("GPU") for line in lines) and lines[-1].startswith("Computes on: CPU")


def test_catalog_json_gives_every_model_with_its_fit_here_and_a_recommendation(hearth_home: Path):
    run = hearth("catalog", "--json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert 12 <= len(report["models"]) <= 20
    ids = [model["id"] for model in report["models"]]
    assert report["recommended"] in ids and len(report["alternatives"]) == 2
    for model in report["models"]:
        assert model["fit"]["verdict"] in {"gpu", "partial", "cpu", "no"} and model["good_at"]
    assert report["hardware"]["devices"][-1]["type"] == "cpu"


def test_catalog_lists_the_fit_and_says_how_to_get_the_recommended_one(hearth_home: Path):
    run = hearth("catalog")
    assert run.returncode == 0, run.stderr
    assert "Recommended for this computer: " in run.stdout and "Get it with: hearth fetch " in run.stdout


def test_fetch_of_a_catalog_id_checks_the_fit_downloads_and_says_what_the_ladder_became(gemma_hub: Path):
    run = hearth("fetch", "gemma-3-270m")
    assert run.returncode == 0, run.stderr
    assert "Runs on the CPU" in run.stdout
    assert "gemma-3-270m now answers first" in run.stdout
    assert "The ladder is now: local [gemma-3-270m, smollm2-135m] → self-hosted [server]" in run.stdout
    config = load_config_file(gemma_hub / "config" / "models.toml")
    assert config.tiers[0].models[0] == "gemma-3-270m"


def test_fetch_of_an_unknown_name_lists_what_the_catalog_has(hearth_home: Path):
    run = hearth("fetch", "no-such-model")
    assert run.returncode == 1
    assert "neither a local model in your models.toml nor in the catalog" in run.stderr and "qwen2.5-7b" in run.stderr
