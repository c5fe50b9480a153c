"""Shadow runs, A/B arms and the statistics they feed, on the real model and a real server."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import wait
from pathlib import Path

import pytest

from app.core.answers import Finished
from app.core.conversation.shadow import selected
from app.core.session import open_session
from tests.conftest import REPO, config_text, write_user_config

QUESTION = "What is the capital of France?"


def shown_answer(home: Path, text: str):
    write_user_config(home, text)
    session = open_session()
    try:
        events = list(session.chat.send(None, QUESTION))
        wait(session.chat.background.submitted, timeout=120)
        store = session.open_store()
        try:
            runs = list(store.db["shadow_runs"].rows)
        finally:
            store.close()
    finally:
        session.close()
    return next(e.answer for e in events if isinstance(e, Finished)), runs


@pytest.mark.server
def test_a_shadow_challenger_is_compared_but_never_changes_the_answer(
    hearth_home: Path, model_file: Path, llama_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    base = config_text(model_file, privacy="local-and-self-hosted", threshold=0.0, server_url=llama_server)
    without, no_runs = shown_answer(hearth_home, base)
    other_home = tmp_path / "with-shadow"
    other_home.mkdir()
    monkeypatch.setenv("HEARTH_HOME", str(other_home))
    with_shadow, runs = shown_answer(other_home, base + '\n[shadow]\nmodel = "server"\nshare = 1.0\n')
    assert no_runs == []
    assert with_shadow.text == without.text and with_shadow.tier == "local" and len(with_shadow.attempts) == 1
    assert len(runs) == 1 and runs[0]["challenger"] == "server" and runs[0]["champion"] == "smollm2-135m"
    assert runs[0]["error"] is None and 0.0 <= runs[0]["agreement"] <= 1.0
    assert runs[0]["challenger_latency_ms"] > 0


def test_a_shadow_the_policy_forbids_never_runs(hearth_home: Path, model_file: Path):
    text = config_text(model_file, privacy="local-only", threshold=0.0) + '\n[shadow]\nmodel = "server"\nshare = 1.0\n'
    answer, runs = shown_answer(hearth_home, text)
    assert answer.tier == "local" and runs == []


def test_the_shadow_share_is_spread_evenly():
    picked = sum(selected(i, 0.2) for i in range(1, 10_001))
    assert 1_900 < picked < 2_100
    assert not any(selected(i, 0.0) for i in range(1, 100))


def test_ab_arm_b_runs_with_its_own_threshold(hearth_home: Path, model_file: Path):
    text = config_text(model_file, privacy="local-only", threshold=0.0) + "\n[ab]\nshare = 1.0\nthreshold = 1.0\n"
    write_user_config(hearth_home, text)
    session = open_session()
    try:
        events = list(session.chat.send(None, QUESTION))
        store = session.open_store()
        arm = store.conversation(events[0].conversation_id).arm
        store.close()
    finally:
        session.close()
    answer = next(e.answer for e in events if isinstance(e, Finished))
    assert arm == "B"
    assert "threshold 1.00" in answer.reason and answer.warning is not None


def hearth(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, cwd=REPO, timeout=300)


@pytest.mark.server
def test_stats_count_escalations_misses_feedback_latency_and_savings(
    hearth_home: Path, model_file: Path, llama_server: str
):
    text = config_text(model_file, privacy="local-and-self-hosted", threshold=0.0, server_url=llama_server)
    write_user_config(
        hearth_home, text.replace('model = "smol-server"', 'model = "smol-server"\nprice_in = 2.0\nprice_out = 8.0')
    )
    first = json.loads(hearth("ask", "--json", QUESTION).stdout)
    second = json.loads(hearth("ask", "--json", "Name a colour.").stdout)
    assert hearth("feedback", str(first["message_id"]), "down").returncode == 0
    assert hearth("feedback", str(second["message_id"]), "up").returncode == 0
    assert hearth("reask", "--json", str(first["message_id"])).returncode == 0

    result = hearth("stats", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    local, server = report["models"]["smollm2-135m"], report["models"]["server"]
    assert local["answers"] == 1 and server["answers"] == 1  # the re-asked answer is now the server's
    assert local["thumbs_up"] == 1 and server["thumbs_down"] == 1
    assert local["latency_ms"]["p50"] > 0 and local["tokens_out"] > 0
    assert server["cost"] > 0 and local["cost_saved"] > 0 and report["cost_saved_reference"] == "server"
    spending = report["spending"]
    assert spending["this_month"] == spending["total"] == pytest.approx(server["cost"]) and server["cost"] > 0
    assert [row["id"] for row in spending["by_conversation"]] == [first["conversation_id"]]
    arm = report["arms"]["A"]
    assert arm["answers"] == 2 and arm["routing_misses"] == 1 and arm["escalation_rate"] == 0.0
    table = hearth("stats")
    assert "smollm2-135m" in table.stdout and "routing misses" in table.stdout
