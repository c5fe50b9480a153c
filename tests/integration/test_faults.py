"""Every remote fault, for every provider, over real TCP: a clear error, and nothing received is lost.

The service is tests/fault_server.py on 127.0.0.1, speaking each provider's wire
format (or nothing at all: a refused port, a name that does not resolve).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.core.answers import Finished, TextDelta
from app.core.config.schema import AnthropicModel, GeminiModel, RemoteModel
from app.core.errors import ProviderError
from app.core.providers.base import Message
from app.core.providers.registry import REMOTE_PROVIDERS
from app.core.session import open_session
from tests.conftest import config_text, free_port, through_gate, write_user_config
from tests.fault_server import KINDS, PREFIX_WORDS, READ_TIMEOUT_S, Fault, base_url, fault_server, faults

KEY = "sk-fault-PLANTED-0f9e8d7c6b5a"
FAULTS = faults(free_port())
MESSAGES = [Message("system", "Be brief."), Message("user", "What is the capital of France?")]


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with fault_server() as url:
        yield url


def remote_config(kind: str, url: str):
    common = {"base_url": url, "model": "m1", "read_timeout": READ_TIMEOUT_S, "connect_timeout": 1.0}
    if kind == "openai-compatible":
        return RemoteModel(provider=kind, location="self-hosted", **common)
    return (AnthropicModel if kind == "anthropic" else GeminiModel)(provider=kind, **common)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_each_fault_is_a_clear_error_after_the_text_that_arrived(server: str, kind: str, fault: Fault):
    provider = REMOTE_PROVIDERS[kind](
        "remote", remote_config(kind, base_url(server, kind, fault)), httpx.Client(), api_key=KEY
    )
    received: list[str] = []
    with pytest.raises(ProviderError) as caught:
        for chunk in through_gate(provider, MESSAGES, max_tokens=48):
            received.append(chunk.text)

    error = caught.value
    assert isinstance(error, fault.expected), f"{fault.name}: {type(error).__name__}: {error}"
    assert "".join(received).startswith("".join(PREFIX_WORDS)) if fault.partial else received == []
    message = str(error)
    assert message.startswith("remote: ") and 20 < len(message) < 600 and KEY not in message
    if fault.name == "429 with Retry-After":
        assert error.retry_after == 1.0 and "Try again in 1 s" in message
    if fault.name == "endless reply":
        assert "MiB" in message and "kept what had arrived" in message


def escalating_config(model_file: Path, kind: str, url: str) -> str:
    """The real local model first, unsure by construction (threshold 1), then the faulty service."""
    text = config_text(model_file, privacy="cloud-auto", threshold=1.0, server_url=url)
    server = text[text.index("[models.server]") :]
    faulty = (
        f'[models.server]\nprovider = "{kind}"\n'
        + ('location = "self-hosted"\n' if kind == "openai-compatible" else "")
        + f'base_url = "{url}"\nmodel = "m1"\nkey = "fault"\n'
        + f"read_timeout = {READ_TIMEOUT_S}\nconnect_timeout = 1.0\n"
    )
    return text.replace(server, faulty)


@pytest.mark.parametrize("kind", KINDS)
def test_through_the_whole_cascade_a_failing_service_loses_nothing_the_user_saw(
    server: str, kind: str, hearth_home: Path, model_file: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("HEARTH_KEY_FAULT", KEY)
    for fault in FAULTS:
        write_user_config(hearth_home, escalating_config(model_file, kind, base_url(server, kind, fault)))
        session = open_session()
        try:
            shown: dict[int, str] = {}  # what the user watched arrive, per attempt
            answer = None
            for event in session.chat.send(None, "What is the capital of France?"):
                if isinstance(event, TextDelta):
                    shown[event.index] = shown.get(event.index, "") + event.text
                elif isinstance(event, Finished):
                    answer = event.answer
            store = session.open_store()
            conversation = store.conversations()[0]
            saved = store.messages(conversation.id)
            attempts = store.attempts(saved[-1].id)
            store.close()
        finally:
            session.close()
        (hearth_home / "data" / "hearth.db").unlink()

        assert answer is not None and answer.text.strip(), fault.name
        assert saved[-1].content == answer.text and saved[-1].status == "complete", fault.name
        remote = [a for a in attempts if a.tier != "local"]
        assert remote and all(a.error for a in remote), fault.name
        assert KEY not in " ".join(a.error or "" for a in remote)
        if fault.partial:
            assert any(a.text.startswith("".join(PREFIX_WORDS)) for a in remote), fault.name
        assert attempts[0].tier == "local" and attempts[0].text.strip()
        kept = {a.position: a.text for a in attempts}
        assert all(kept.get(index, "").startswith(text) for index, text in shown.items()), (fault.name, shown, kept)
