"""`logprobs` with `top_logprobs` from Hearth's API: the real alternatives of the model that answered.

The local model's are read from llama.cpp's logits and must be the numbers llama-cpp-python's own
server (fixture ``llama_server``, the same model file) gives for the same greedy request; a
remote tier's are passed on as it returned them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import config_text
from tests.integration.test_api_history import KEY, serving

pytestmark = pytest.mark.server

MESSAGES = [
    {"role": "system", "content": "You are Hearth, a helpful and concise assistant."},
    {"role": "user", "content": "What is the capital of France?"},
]
GREEDY = {"messages": MESSAGES, "temperature": 0, "max_tokens": 6, "logprobs": True}


@pytest.fixture(scope="module")
def hearth(model_file: Path, llama_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Hearth's API in this process: the real model locally, llama_cpp.server as the self-hosted tier."""
    home = tmp_path_factory.mktemp("api-top-logprobs")
    config = config_text(model_file, privacy="local-and-self-hosted", server_url=llama_server, server_logprobs=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HEARTH_HOME", str(home))
        with serving(home, config) as base_url:
            yield base_url


def completion(base_url: str, key: str, **body: Any) -> dict[str, Any]:
    answer = httpx.post(
        f"{base_url}/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=120
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def alternatives(choice: dict[str, Any]) -> list[dict[str, float]]:
    return [{top["token"]: top["logprob"] for top in entry["top_logprobs"]} for entry in choice["logprobs"]["content"]]


def test_the_local_models_alternatives_are_llama_cpp_servers_for_the_same_greedy_request(hearth: str, llama_server):
    ours = completion(hearth, KEY.value, model="smollm2-135m", top_logprobs=5, **GREEDY)["choices"][0]
    theirs = completion(llama_server, "none", model="smol-server", top_logprobs=5, **GREEDY)["choices"][0]
    assert ours["message"]["content"] == theirs["message"]["content"]
    mine, reference = alternatives(ours), alternatives(theirs)
    assert len(mine) == len(reference) == 6
    for step, (got, expected) in enumerate(zip(mine, reference, strict=True)):
        assert len(got) == 5, f"five alternatives at token {step}"
        assert got.keys() == expected.keys(), f"the same five tokens at token {step}"
        for token, logprob in expected.items():
            assert got[token] == pytest.approx(logprob, abs=2e-3), f"{token!r} at token {step}"
    chosen = [entry["logprob"] for entry in ours["logprobs"]["content"]]
    assert chosen == pytest.approx([max(step.values()) for step in mine], abs=1e-4), "greedy: the likeliest each time"


def test_a_stream_carries_as_many_alternatives_as_asked_for_each_token(hearth: str):
    body = {"model": "smollm2-135m", "stream": True, "top_logprobs": 3, **GREEDY}
    entries = []
    with httpx.stream(
        "POST", f"{hearth}/chat/completions", json=body, headers={"Authorization": f"Bearer {KEY.value}"}, timeout=120
    ) as response:
        for line in response.iter_lines():
            if line.startswith("data: {"):
                logprobs = json.loads(line.removeprefix("data: "))["choices"][0]["logprobs"]
                entries.extend(logprobs["content"] if logprobs else [])
    assert len(entries) == 6
    assert all(len(entry["top_logprobs"]) == 3 for entry in entries)
    for entry in entries:
        odds = [top["logprob"] for top in entry["top_logprobs"]]
        assert odds == sorted(odds, reverse=True), "best first"


def test_logprobs_without_alternatives_asked_for_carry_none(hearth: str):
    choice = completion(hearth, KEY.value, model="smollm2-135m", **GREEDY)["choices"][0]
    assert choice["logprobs"]["content"] and all(e["top_logprobs"] == [] for e in choice["logprobs"]["content"])


def test_a_remote_tiers_alternatives_are_passed_on_as_it_returned_them(hearth: str, llama_server: str):
    ours = completion(hearth, KEY.value, model="server", top_logprobs=2, **GREEDY)["choices"][0]
    theirs = completion(llama_server, "none", model="smol-server", top_logprobs=5, **GREEDY)["choices"][0]
    assert ours["message"]["content"] == theirs["message"]["content"]
    expected = [dict(list(step.items())[:2]) for step in alternatives(theirs)]
    assert alternatives(ours) == expected


def test_top_logprobs_without_logprobs_is_refused(hearth: str):
    body = {"model": "hearth", "messages": MESSAGES, "top_logprobs": 2}
    answer = httpx.post(f"{hearth}/chat/completions", json=body, headers={"Authorization": f"Bearer {KEY.value}"})
    assert answer.status_code == 400 and "logprobs" in answer.json()["error"]["message"]
