"""API keys live only in the keychain or the environment: never on disk, in output, or in errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from app.core.config import keys
from app.core.config.schema import RemoteModel
from app.core.errors import GateClosed, HearthError
from app.core.providers.base import Message
from app.core.providers.openai_compat import OpenAICompatibleProvider
from tests.conftest import REPO, config_text, through_gate, write_user_config
from tests.fakes import MemoryKeychain

PLANTED = "sk-PLANTED-7d1f0c2b9e4a-do-not-leak"


def test_a_key_is_stored_in_the_keychain_found_there_and_deleted(keychain: MemoryKeychain):
    keys.store_key("openai", PLANTED)
    assert keychain.secrets == {("Hearth", "openai"): PLANTED}
    assert keys.api_key("openai") == PLANTED and keys.where("openai") == "keychain"
    assert keys.delete_key("openai") and keys.api_key("openai") is None and not keys.delete_key("openai")


def test_the_environment_wins_over_the_keychain(keychain: MemoryKeychain, monkeypatch: pytest.MonkeyPatch):
    keys.store_key("openai", "from-keychain")
    monkeypatch.setenv("HEARTH_KEY_OPENAI", "from-env")
    assert keys.api_key("openai") == "from-env" and keys.where("openai") == "environment"


def test_without_a_keychain_the_user_is_told_to_use_the_environment(no_keychain):
    assert "no usable system keychain" in keys.keychain_problem()
    with pytest.raises(HearthError, match="Set HEARTH_KEY_OPENAI instead"):
        keys.store_key("openai", PLANTED)
    assert "environment variable HEARTH_KEY_OPENAI" in keys.missing_key_message("openai")


def test_a_missing_key_sends_nothing_and_says_how_to_provide_it():
    sent: list[httpx.Request] = []
    client = httpx.Client(transport=httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(200)))
    config = RemoteModel(
        provider="openai-compatible", location="cloud", base_url="https://api.example.test/v1", model="m", key="openai"
    )
    provider = OpenAICompatibleProvider("gpt", config, client, missing_key=keys.missing_key_message("openai"))
    with pytest.raises(GateClosed, match="HEARTH_KEY_OPENAI"):
        list(through_gate(provider, [Message("user", "hi")], max_tokens=4))
    assert sent == []


def test_the_key_command_on_a_headless_machine_explains_itself(hearth_home: Path):
    headless = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    result = subprocess.run(
        [sys.executable, "-m", "app", "key", "set", "openai"],
        input=PLANTED + "\n",
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        env=headless,
    )
    assert result.returncode == 1 and "HEARTH_KEY_OPENAI" in result.stderr and PLANTED not in result.stderr


@pytest.mark.server
def test_a_planted_key_appears_in_no_file_output_or_error(hearth_home: Path, model_file: Path, llama_server: str):
    text = config_text(
        model_file, privacy="cloud-auto", threshold=1.0, server_url=llama_server, server_location="cloud"
    )
    write_user_config(hearth_home, text.replace('model = "smol-server"', 'model = "smol-server"\nkey = "cloud"'))
    env = {**os.environ, "HEARTH_KEY_CLOUD": PLANTED}

    def hearth(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "app", *args], capture_output=True, text=True, cwd=REPO, env=env, timeout=300
        )
        return result.stdout + result.stderr

    outputs = [hearth("ask", "--json", "What is the capital of France?"), hearth("ask", "Name a colour.")]
    answer = json.loads(outputs[0].splitlines()[-1] if outputs[0].strip().startswith("{") else outputs[0])
    assert answer["escalated"] and answer["tier"] == "cloud"
    outputs += [
        hearth("audit", "--json"),
        hearth("stats", "--json"),
        hearth("models"),
        hearth("key", "status", "cloud"),
    ]
    assert "comes from the environment" in outputs[-1]
    for output in outputs:
        assert PLANTED not in output
    files = [path for path in hearth_home.rglob("*") if path.is_file()]
    assert any(path.name == "hearth.db" for path in files)
    for path in files:
        assert PLANTED.encode() not in path.read_bytes(), f"the key leaked into {path}"
