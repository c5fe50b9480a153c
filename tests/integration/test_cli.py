"""The hearth command, run as a user would: a real process, a real model, a real database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.storage.store import Store
from tests.conftest import REPO, config_text, write_user_config


def hearth(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args], capture_output=True, text=True, cwd=REPO, timeout=timeout
    )


def test_ask_json_prints_one_object_with_the_answer_and_its_provenance(configured_home: Path):
    result = hearth("ask", "--json", "What is the capital of France?")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert {"answer", "tier", "model", "confidence", "escalated", "reason", "latency_ms", "tokens"} <= answer.keys()
    assert answer["answer"] and answer["tier"] == "local" and answer["model"] == "smollm2-135m"
    assert 0.0 <= answer["confidence"] <= 1.0
    assert answer["escalated"] is False and answer["tokens"] > 0 and answer["latency_ms"] > 0
    assert (configured_home / "data" / "hearth.db").exists()


def test_ask_streams_the_answer_to_the_terminal(configured_home: Path):
    result = hearth("ask", "What is the capital of France?")
    assert result.returncode == 0, result.stderr
    assert "[local · smollm2-135m · confidence" in result.stderr
    store = Store(configured_home / "data" / "hearth.db")
    stored = store.messages(store.conversations()[0].id)[-1]
    store.close()
    assert stored.status == "complete" and stored.content and result.stdout == stored.content


def test_a_conversation_can_be_continued(configured_home: Path):
    first = json.loads(hearth("ask", "--json", "My name is Ada.").stdout)
    second = json.loads(hearth("ask", "--json", "--conversation", str(first["conversation_id"]), "Hi again").stdout)
    assert second["conversation_id"] == first["conversation_id"]


def test_models_lists_each_model_and_whether_it_is_present(hearth_home: Path, model_file: Path):
    write_user_config(hearth_home, config_text(model_file).replace(str(model_file), str(hearth_home / "gone.gguf")))
    missing = hearth("models")
    assert missing.returncode == 0, missing.stderr
    assert "smollm2-135m" in missing.stdout and "missing" in missing.stdout
    write_user_config(hearth_home, config_text(model_file))
    present = hearth("models")
    assert "present" in present.stdout and str(model_file) in present.stdout
    assert "server" in present.stdout and "self-hosted" in present.stdout


def test_a_missing_model_is_a_message_not_a_traceback(hearth_home: Path, model_file: Path):
    write_user_config(hearth_home, config_text(model_file).replace(str(model_file), str(hearth_home / "gone.gguf")))
    result = hearth("ask", "hello")
    assert result.returncode == 1
    assert "gone.gguf does not exist" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args, says",
    [
        (["reask", "999"], "There is no message 999."),
        (["versions", "999"], "There is no message 999."),
        (["privacy", "999", "local-only"], "There is no conversation 999."),
        (["delete", "999"], "There is no conversation 999."),
        (["export", "out.json", "--conversation", "999"], "There is no conversation 999."),
    ],
)
def test_an_unknown_id_is_a_message_not_a_traceback(configured_home: Path, args: list[str], says: str, tmp_path: Path):
    result = subprocess.run(
        [sys.executable, "-m", "app", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=60,
    )
    assert result.returncode == 1 and says in result.stderr and "Traceback" not in result.stderr


def test_a_conversation_started_with_a_privacy_policy_keeps_it_as_the_window_does(configured_home: Path):
    started = json.loads(hearth("ask", "--json", "--privacy", "local-only", "Name a colour.").stdout)
    plain = json.loads(hearth("ask", "--json", "Name a fruit.").stdout)
    with Store(configured_home / "data" / "hearth.db") as store:
        assert store.conversation(started["conversation_id"]).privacy == "local-only"
        assert store.conversation(plain["conversation_id"]).privacy is None  # it follows the app's
