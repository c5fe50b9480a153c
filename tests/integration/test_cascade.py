"""The cascade end to end: real local model, real OpenAI-compatible server, real SQLite."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from app.core.answers import AttemptStarted, Finished, TextDelta
from app.core.config.schema import Privacy
from app.core.errors import HearthError
from app.core.privacy.gate import ConsentRequest, Decision
from app.core.session import open_session
from tests.conftest import config_text, free_port, write_user_config

QUESTION = "What is the capital of France?"


def ask(home: Path, model_file: Path, question: str = QUESTION, consent=None, **config):
    write_user_config(home, config_text(model_file, **config))
    session = open_session(consent=consent)
    try:
        events = list(session.chat.send(None, question))
        store = session.open_store()
        try:
            conversation = store.conversations()[0]
            messages = store.messages(conversation.id)
            attempts = store.attempts(messages[-1].id)
        finally:
            store.close()
    finally:
        session.close()
    answer = next(e.answer for e in events if isinstance(e, Finished))
    return answer, events, messages, attempts


def test_a_confident_local_answer_stays_local(hearth_home: Path, model_file: Path):
    answer, events, messages, attempts = ask(hearth_home, model_file, threshold=0.0)
    assert answer.tier == "local" and not answer.escalated
    assert answer.text and "Confident enough" in answer.reason
    assert 0.0 <= answer.confidence <= 1.0
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == answer.text
    assert [m.role for m in messages] == ["user", "assistant"]
    assert messages[1].content == answer.text and messages[1].status == "complete"
    assert len(attempts) == 1 and attempts[0].confidence == answer.confidence
    assert attempts[0].signals["n_tokens"] == answer.tokens_out


def test_a_sum_the_local_model_gets_wrong_is_not_trusted_and_the_reason_says_why(hearth_home: Path, model_file: Path):
    # The bundled model answers 1921 (34 x 59 is 2006).
    answer, _, _, attempts = ask(hearth_home, model_file, "What is 34 times 59?")
    assert attempts[0].signals["self_check"] is False
    assert answer.confidence < 0.05
    assert "Hearth worked the result out too: the answer does not agree (Hearth's result: 2006)." in answer.reason


@pytest.mark.server
def test_an_unsure_answer_escalates_to_the_self_hosted_server(hearth_home: Path, model_file: Path, llama_server: str):
    answer, events, messages, attempts = ask(
        hearth_home,
        model_file,
        privacy="local-and-self-hosted",
        threshold=1.0,
        server_url=llama_server,
        server_logprobs=True,
    )
    # Neither reaches a threshold of 1.0: both tiers answer and the surer of the two is shown.
    surer = max(answer.attempts, key=lambda a: a.confidence or 0.0)
    assert answer.tier == surer.tier and answer.text == surer.text and answer.text
    assert "Unsure answer" in (answer.warning or "") or answer.tier == "self-hosted"
    started = [e for e in events if isinstance(e, AttemptStarted)]
    assert [s.tier for s in started] == ["local", "self-hosted"]
    assert [a.tier for a in attempts] == ["local", "self-hosted"]
    assert [a.provider for a in attempts] == ["llama-cpp", "openai-compatible"]
    assert attempts[0].text and "Unsure" in attempts[0].reason and "Asked the self-hosted tier" in attempts[0].reason
    # The server reports token logprobs, so the remote answer is scored too.
    assert attempts[1].confidence is not None and attempts[1].signals["n_tokens"] > 0
    assert messages[-1].content == answer.text


@pytest.mark.server
def test_local_only_never_opens_a_connection(
    hearth_home: Path, model_file: Path, llama_server: str, monkeypatch: pytest.MonkeyPatch
):
    connections: list[object] = []
    real_connect = socket.socket.connect

    def recording_connect(sock, address):
        connections.append(address)
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", recording_connect)
    answer, _, _, attempts = ask(hearth_home, model_file, privacy="local-only", threshold=1.0, server_url=llama_server)
    assert connections == []
    assert not answer.escalated and answer.tier == "local" and len(attempts) == 1
    assert "privacy policy 'local-only'" in answer.reason


def test_a_dead_server_keeps_the_local_answer(hearth_home: Path, model_file: Path):
    dead = f"http://127.0.0.1:{free_port()}/v1"
    answer, _, messages, attempts = ask(
        hearth_home, model_file, privacy="local-and-self-hosted", threshold=1.0, server_url=dead
    )
    assert answer.tier == "local" and not answer.escalated and answer.complete
    assert answer.text == attempts[0].text and messages[-1].content == answer.text
    assert "could not connect" in attempts[1].error and "Is the server running" in attempts[1].error
    assert "Showing the local answer instead" in answer.reason


@pytest.mark.server
def test_the_cloud_waits_for_consent(hearth_home: Path, model_file: Path, llama_server: str):
    requests: list[ConsentRequest] = []

    def refuse(request: ConsentRequest) -> Decision:
        requests.append(request)
        return Decision.NOT_NOW

    answer, _, _, attempts = ask(
        hearth_home,
        model_file,
        consent=refuse,
        privacy="cloud-with-consent",
        threshold=1.0,
        server_url=llama_server,
        server_location="cloud",
    )
    assert len(requests) == 1
    assert requests[0].messages[-1].content == QUESTION and requests[0].model_id == "server"
    assert not answer.escalated and len(attempts) == 1 and "did not approve" in answer.reason

    answer, _, _, attempts = ask(
        hearth_home,
        model_file,
        consent=lambda request: Decision.ONCE,
        privacy="cloud-with-consent",
        threshold=1.0,
        server_url=llama_server,
        server_location="cloud",
    )
    assert answer.escalated and answer.tier == "cloud" and len(attempts) == 2


def test_the_privacy_policy_can_be_tightened_per_message(hearth_home: Path, model_file: Path):
    write_user_config(hearth_home, config_text(model_file, privacy="cloud-auto", threshold=1.0))
    session = open_session()
    try:
        events = list(session.chat.send(None, QUESTION, privacy=Privacy.LOCAL_ONLY))
    finally:
        session.close()
    answer = next(e.answer for e in events if isinstance(e, Finished))
    assert not answer.escalated and len(answer.attempts) == 1


@pytest.mark.server
def test_asking_a_stronger_model_is_recorded_as_a_routing_miss(hearth_home: Path, model_file: Path, llama_server: str):
    write_user_config(
        hearth_home, config_text(model_file, privacy="local-and-self-hosted", threshold=0.0, server_url=llama_server)
    )
    session = open_session()
    try:
        first = list(session.chat.send(None, QUESTION))
        answer_id = first[0].answer_id
        local_answer = next(e.answer for e in first if isinstance(e, Finished))
        assert local_answer.tier == "local"
        again = list(session.chat.reask(answer_id))
        store = session.open_store()
        try:
            message = store.message(answer_id)
            attempts = store.attempts(answer_id)
            events = store.routing_events()
        finally:
            store.close()
    finally:
        session.close()
    stronger = next(e.answer for e in again if isinstance(e, Finished))
    assert stronger.tier == "self-hosted" and message.content == stronger.text
    assert [(a.position, a.tier, a.trigger) for a in attempts] == [(0, "local", "auto"), (1, "self-hosted", "user")]
    assert [(e.kind, e.from_tier, e.to_tier) for e in events] == [("user-escalation", "local", "self-hosted")]


def test_asking_a_stronger_model_respects_local_only(configured_home: Path):
    session = open_session()
    try:
        answer_id = list(session.chat.send(None, QUESTION))[0].answer_id
        with pytest.raises(
            HearthError, match="Not the self-hosted tier: the privacy policy 'local-only' does not allow it"
        ):
            list(session.chat.reask(answer_id))
    finally:
        session.close()
