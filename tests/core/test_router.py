"""The router: which tiers may answer a message and where it starts, with the reasons recorded."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.config.schema import Config, Privacy
from app.core.providers.base import Message
from app.core.providers.openai_compat import _wire_message
from app.core.routing.router import Request, RoutingError, plan
from tests.conftest import REPO, config_text, write_user_config


def config(**router) -> Config:
    return Config.model_validate(
        {
            "router": router,
            "tiers": [
                {"name": "local", "models": ["small"]},
                {"name": "self-hosted", "models": ["server"], "slow": True},
                {"name": "cloud", "models": ["gpt"], "images": True, "slow": True},
            ],
            "models": {
                "small": {"provider": "llama-cpp", "file": "small.gguf"},
                "server": {
                    "provider": "openai-compatible",
                    "location": "self-hosted",
                    "base_url": "http://h/v1",
                    "model": "m",
                },
                "gpt": {
                    "provider": "openai-compatible",
                    "location": "cloud",
                    "base_url": "https://api/v1",
                    "model": "g",
                    "price_in": 2.5,
                    "price_out": 10.0,
                },
            },
        }
    )


def test_a_plain_question_starts_locally_with_every_allowed_tier_behind_it():
    route = plan(config(), Request("What is the capital of France?"), Privacy.CLOUD_AUTO, None)
    assert route.tiers == ["local", "self-hosted", "cloud"] and route.start == "local"
    assert route.reasons == ["Starting at local."]


def test_the_privacy_policy_removes_tiers_before_anything_runs():
    route = plan(config(), Request("hi"), Privacy.LOCAL_ONLY, None)
    assert route.tiers == ["local"]
    assert "Privacy 'local-only': not self-hosted, cloud." in route.reasons


def test_an_image_goes_only_to_tiers_that_accept_images():
    route = plan(config(), Request("What is in this photo?", has_image=True), Privacy.CLOUD_AUTO, None)
    assert route.tiers == ["cloud"] and route.start == "cloud"
    assert any("only cloud accept images" in r for r in route.reasons)


def test_an_image_with_no_tier_allowed_to_see_it_is_refused_with_a_reason():
    with pytest.raises(RoutingError, match="accepts images"):
        plan(config(), Request("What is in this photo?", has_image=True), Privacy.SELF_HOSTED, None)


def test_a_quick_answer_skips_slow_tiers():
    route = plan(config(), Request("hi", quick=True), Privacy.CLOUD_AUTO, None)
    assert route.tiers == ["local"] and "Quick answer: skipping the slow self-hosted, cloud." in route.reasons


def test_a_spent_budget_stops_paid_tiers():
    route = plan(config(), Request("hi"), Privacy.CLOUD_AUTO, budget_left=0.0)
    assert route.tiers == ["local", "self-hosted"]
    assert "The monthly budget is spent: not cloud." in route.reasons
    assert plan(config(), Request("hi"), Privacy.CLOUD_AUTO, budget_left=1.0).tiers[-1] == "cloud"


@pytest.mark.parametrize(
    "text, why",
    [
        ("word " * 160, "160 words"),
        ("Why does this fail?\n```python\nprint(x)\n```", "code"),
        ("Explain step by step how to bake bread.", "several steps"),
    ],
)
def test_complex_requests_start_higher_when_configured(text: str, why: str):
    route = plan(config(complex_start="self-hosted"), Request(text), Privacy.CLOUD_AUTO, None)
    assert route.start == "self-hosted"
    assert any(why in reason for reason in route.reasons)
    assert plan(config(), Request(text), Privacy.CLOUD_AUTO, None).start == "local"


def test_a_complex_start_the_policy_forbids_stays_local():
    route = plan(config(complex_start="cloud"), Request("step by step please"), Privacy.SELF_HOSTED, None)
    assert route.start == "local" and any("cloud may not answer it" in r for r in route.reasons)


def test_images_go_on_the_wire_as_openai_content_parts():
    wire = _wire_message(Message("user", "What is this?", ("data:image/png;base64,AAAA",)))
    assert wire == {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
        ],
    }
    assert _wire_message(Message("user", "hi")) == {"role": "user", "content": "hi"}


def test_ask_json_shows_the_route_and_its_reasons(hearth_home: Path, model_file: Path):
    write_user_config(hearth_home, config_text(model_file))
    result = subprocess.run(
        [sys.executable, "-m", "app", "ask", "--json", "Hello!"], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert result.returncode == 0, result.stderr
    route = json.loads(result.stdout)["route"]
    assert route == {
        "tiers": ["local"],
        "start": "local",
        "reasons": ["Privacy 'local-only': not self-hosted.", "Starting at local."],
        "task": "general",
        "model": None,
    }


def test_an_image_for_a_text_only_setup_is_refused_before_anything_is_stored(
    hearth_home: Path, model_file: Path, tmp_path: Path
):
    write_user_config(hearth_home, config_text(model_file))
    image = tmp_path / "photo.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 32)
    result = subprocess.run(
        [sys.executable, "-m", "app", "ask", "--image", str(image), "What is this?"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 1 and "accepts images" in result.stderr and "Traceback" not in result.stderr
    assert not (hearth_home / "data" / "hearth.db").exists() or "What is this?" not in (
        hearth_home / "data" / "hearth.db"
    ).read_bytes().decode("latin-1")
