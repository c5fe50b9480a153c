"""Hearth's local API as other programs use it: a real `hearth serve` process, the official `openai` client.

Real servers stand in for the tiers: llama-cpp-python's own server (fixture ``llama_server``)
is the self-hosted or cloud tier; the local tier is the real model.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from app.core.storage.outbound_records import OutboundRecords
from app.core.storage.store import Store
from tests.conftest import REPO, config_text, free_port, wait_for_server, write_user_config

pytestmark = pytest.mark.server

CLIENT = "test-editor/1.0"
QUESTION = [{"role": "user", "content": "What is the capital of France?"}]


class Served:
    def __init__(self, home: Path, base_url: str, key: str, process: subprocess.Popen[bytes]):
        self.home = home
        self.base_url = base_url
        self.key = key
        self.process = process

    def client(self, key: str | None = None) -> openai.OpenAI:
        return openai.OpenAI(
            base_url=self.base_url, api_key=key or self.key, max_retries=0, default_headers={"User-Agent": CLIENT}
        )

    def audit(self) -> list:
        store = Store(self.home / "data" / "hearth.db")
        try:
            return OutboundRecords(store).audit()
        finally:
            store.close()

    def stored_messages(self) -> int:
        store = Store(self.home / "data" / "hearth.db")
        try:
            return store.db["messages"].count + store.db["conversations"].count
        finally:
            store.close()


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "HEARTH_API_KEY"}
    return {
        **env,
        "HEARTH_HOME": str(home),
        "PYTHON_KEYRING_BACKEND": "tests.file_keychain.FileKeychain",
        "HEARTH_TEST_KEYCHAIN": str(home / "keychain.json"),
        "PYTHONPATH": str(REPO),
    }


def serve(home: Path, config: str) -> Iterator[Served]:
    write_user_config(home, config)
    port = free_port()
    log = home / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--port", str(port)],
            cwd=REPO,
            env=_env(home),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        problem = wait_for_server(process, f"{base_url}/models", log)
        assert problem is None, f"hearth serve {problem}"
        key = subprocess.run(
            [sys.executable, "-m", "app", "serve", "--print-key"],
            cwd=REPO,
            env=_env(home),
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        yield Served(home, base_url, key, process)
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.fixture(scope="module")
def local_only(model_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve(tmp_path_factory.mktemp("api-local"), config_text(model_file, max_answer_tokens=24))


@pytest.fixture(scope="module")
def self_hosted(model_file: Path, llama_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The local answer is never sure enough (threshold 1), and the policy allows the self-hosted server."""
    config = config_text(
        model_file, privacy="local-and-self-hosted", threshold=1.0, server_url=llama_server, max_answer_tokens=16
    )
    yield from serve(tmp_path_factory.mktemp("api-self-hosted"), config)


@pytest.fixture(scope="module")
def cloud_with_consent(
    model_file: Path, llama_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    config = config_text(
        model_file,
        privacy="cloud-with-consent",
        threshold=1.0,
        server_url=llama_server,
        server_location="cloud",
        max_answer_tokens=16,
    )
    yield from serve(tmp_path_factory.mktemp("api-cloud"), config)


def test_serve_says_where_it_listens_and_where_the_key_is(local_only: Served):
    said = (local_only.home / "serve.log").read_text()
    assert local_only.base_url in said and "127.0.0.1" in said
    assert "keychain" in said and local_only.key not in said
    assert local_only.key.startswith("hearth-") and len(local_only.key) > 40
    assert "Programs' conversations are not kept" in said and "keep_history = true" in said


def test_the_openai_client_streams_an_answer_with_hearths_fields(local_only: Served):
    stream = local_only.client().chat.completions.create(
        model="hearth", messages=QUESTION, stream=True, stream_options={"include_usage": True}, max_tokens=12
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip()
    finished = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    assert len(finished) == 1 and finished[0].choices[0].finish_reason in ("stop", "length")
    facts = finished[0].hearth
    assert facts["tier"] == "local" and facts["model"] == "smollm2-135m" and facts["escalated"] is False
    assert 0 <= facts["confidence"] <= 1 and facts["reason"] and facts["cost"] == 0
    assert [a["model"] for a in facts["attempts"]] == ["smollm2-135m"]
    usage = chunks[-1].usage
    assert usage is not None and usage.completion_tokens == facts["attempts"][0]["tokens"] > 0


def test_a_whole_answer_carries_the_same_facts_in_its_body_and_headers(local_only: Served):
    raw = local_only.client().chat.completions.with_raw_response.create(
        model="hearth", messages=QUESTION, max_tokens=8, temperature=0, logprobs=True
    )
    completion = raw.parse()
    assert completion.choices[0].message.content
    assert completion.usage is not None and completion.usage.completion_tokens > 0
    tokens = completion.choices[0].logprobs.content
    assert tokens and all(t.logprob <= 0 for t in tokens)
    assert raw.headers["X-Hearth-Tier"] == completion.hearth["tier"] == "local"
    assert raw.headers["X-Hearth-Model"] == "smollm2-135m"
    assert float(raw.headers["X-Hearth-Confidence"]) == pytest.approx(completion.hearth["confidence"], abs=1e-4)
    assert raw.headers["X-Hearth-Escalated"] == "false" and raw.headers["X-Hearth-Attempts"] == "1"


def test_each_configured_model_is_listed_and_answers_alone(local_only: Served):
    client = local_only.client()
    assert [m.id for m in client.models.list()] == ["hearth", "smollm2-135m", "server"]
    completion = client.chat.completions.create(model="smollm2-135m", messages=QUESTION, max_tokens=4)
    assert completion.hearth["model"] == "smollm2-135m" and completion.model == "smollm2-135m"


def test_a_stop_string_ends_the_answer_before_it(local_only: Served):
    client = local_only.client()
    whole = client.chat.completions.create(model="hearth", messages=QUESTION, max_tokens=12, temperature=0)
    text = whole.choices[0].message.content
    word = text.split()[1]
    cut = client.chat.completions.create(model="hearth", messages=QUESTION, max_tokens=12, temperature=0, stop=[word])
    assert cut.choices[0].message.content == text[: text.index(word)]


def test_a_wrong_or_missing_key_is_refused(local_only: Served):
    with pytest.raises(openai.AuthenticationError) as refused:
        local_only.client("hearth-not-the-key").chat.completions.create(model="hearth", messages=QUESTION)
    assert refused.value.status_code == 401 and "Authorization: Bearer" in refused.value.message
    for path in ("/models", "/chat/completions", "/nowhere"):
        assert httpx.get(local_only.base_url + path).status_code == 401


def test_bad_requests_get_openai_errors_with_the_right_status(local_only: Served):
    client = local_only.client()
    with pytest.raises(openai.NotFoundError) as unknown:
        client.chat.completions.create(model="gpt-7", messages=QUESTION)
    assert "gpt-7" in unknown.value.message and unknown.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError) as several:
        client.chat.completions.create(model="hearth", messages=QUESTION, n=2)
    assert "n" in several.value.message
    with pytest.raises(openai.BadRequestError) as wider:
        client.chat.completions.create(
            model="hearth", messages=QUESTION, extra_body={"hearth": {"privacy": "cloud-auto"}}
        )
    assert "never widen" in wider.value.message
    with pytest.raises(openai.APIStatusError) as long:
        client.chat.completions.create(model="hearth", messages=[{"role": "user", "content": "word " * 5000}])
    assert long.value.status_code == 413 and "2048" in long.value.message
    with pytest.raises(openai.BadRequestError) as fetched:
        image = {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
        client.chat.completions.create(model="hearth", messages=[{"role": "user", "content": [image]}])
    assert "data:image" in fetched.value.message


def test_nothing_of_an_api_conversation_is_stored(local_only: Served):
    local_only.client().chat.completions.create(model="hearth", messages=QUESTION, max_tokens=4)
    assert local_only.stored_messages() == 0


def test_an_unsure_answer_climbs_to_the_self_hosted_tier_and_the_audit_says_via_api(self_hosted: Served):
    completion = self_hosted.client().chat.completions.create(model="hearth", messages=QUESTION)
    facts = completion.hearth
    assert facts["escalated"] is True and facts["tier"] == "self-hosted" and facts["model"] == "server"
    assert [a["tier"] for a in facts["attempts"]] == ["local", "self-hosted"]
    (row,) = self_hosted.audit()
    assert row.via == f"API ({CLIENT})" and row.model == "server" and row.outcome == "answered"
    assert row.conversation_id is None and self_hosted.stored_messages() == 0


def test_a_caller_may_narrow_the_policy_and_then_nothing_leaves(self_hosted: Served):
    before = len(self_hosted.audit())
    completion = self_hosted.client().chat.completions.create(
        model="hearth", messages=QUESTION, extra_body={"hearth": {"privacy": "local-only"}}
    )
    assert completion.hearth["escalated"] is False and completion.hearth["tier"] == "local"
    assert "local-only" in completion.hearth["reason"]
    assert len(self_hosted.audit()) == before


def test_with_no_window_to_ask_a_request_that_needs_consent_is_refused_with_409(cloud_with_consent: Served):
    client = cloud_with_consent.client()
    for stream in (False, True):
        with pytest.raises(openai.ConflictError) as refused:
            response = client.chat.completions.create(model="hearth", messages=QUESTION, stream=stream)
            list(response) if stream else None
        assert "no Hearth window is open" in refused.value.message and "server" in refused.value.message
    with pytest.raises(openai.ConflictError):
        client.chat.completions.create(model="server", messages=QUESTION)
    assert cloud_with_consent.audit() == []
    narrowed = client.chat.completions.create(
        model="hearth", messages=QUESTION, extra_body={"hearth": {"privacy": "local-and-self-hosted"}}
    )
    assert narrowed.hearth["tier"] == "local"
