"""Redaction before anything leaves the machine, measured on a labelled set, and the audit trail."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.answers import Finished
from app.core.config.schema import Privacy
from app.core.errors import HearthError
from app.core.privacy.gate import ConsentRequest, Decision
from app.core.privacy.outbound import StreamRestorer, payload_fingerprint
from app.core.privacy.redaction import Redaction
from app.core.providers.base import Message
from app.core.session import open_session
from bench.redaction import SETS, measure
from tests.conftest import REPO, config_text, write_user_config
from tests.fault_server import fault_server, received


@pytest.mark.parametrize("labelled", ["plain", "tuning", "held_out"])
def test_recall_and_precision_on_the_labelled_sentences(labelled: str):
    result = measure(SETS[labelled])
    assert result["entities"] >= 30
    assert result["recall"] >= 0.95 and result["precision"] >= 0.9, result["wrong"]


@pytest.mark.parametrize(
    "text, kept",
    [
        ("Card 4111 1111 1111 1112 fails Luhn", "4111 1111 1111 1112"),
        ("GB00WEST12345698765432 fails mod-97", "GB00WEST12345698765432"),
        ("Due 2024-05-01 at 10:30", "2024-05-01"),
        ("Population 8100000", "8100000"),
    ],
)
def test_look_alikes_that_fail_their_checks_are_left_alone(text: str, kept: str):
    assert kept in Redaction().redact(text)


def test_the_same_value_gets_the_same_placeholder_and_everything_comes_back():
    redaction = Redaction()
    text = "Write to ann@example.com; again, ann@example.com. Or bob@example.com."
    hidden = redaction.redact(text)
    assert hidden == "Write to [EMAIL_1]; again, [EMAIL_1]. Or [EMAIL_2]."
    assert redaction.restore(hidden) == text and redaction.found == {"EMAIL": 2}


def test_a_placeholder_split_across_streamed_chunks_is_restored_whole():
    redaction = Redaction()
    redaction.redact("mail ann@example.com")
    restorer = StreamRestorer(redaction)
    pieces = ["I will write to [EM", "AIL", "_1] to", "day. [", "done]"]
    shown = "".join(restorer.feed(piece) for piece in pieces) + restorer.flush()
    assert shown == "I will write to ann@example.com today. [done]"


def test_the_fingerprint_changes_with_any_byte_of_the_payload():
    first = payload_fingerprint([Message("user", "hello")])
    assert len(first) == 64 and first == payload_fingerprint([Message("user", "hello")])
    assert first != payload_fingerprint([Message("user", "hello!")])


QUESTION = "My email is ann.lee@example.com and my card is 4111 1111 1111 1111. Which is safer to share?"


@pytest.mark.server
def test_the_cloud_receives_placeholders_the_user_sees_real_values_and_the_audit_records_it(
    hearth_home: Path, model_file: Path, llama_server: str
):
    asked: list[ConsentRequest] = []

    def consent(request: ConsentRequest) -> Decision:
        asked.append(request)
        return Decision.ONCE

    text = config_text(
        model_file, privacy="cloud-with-consent", threshold=1.0, server_url=llama_server, server_location="cloud"
    )
    write_user_config(
        hearth_home, text.replace('model = "smol-server"', 'model = "smol-server"\nprice_in = 3.0\nprice_out = 15.0')
    )
    session = open_session(consent=consent)
    try:
        events = list(session.chat.send(None, QUESTION))
    finally:
        session.close()
    answer = next(e.answer for e in events if isinstance(e, Finished))
    sent = asked[0].messages[-1].content
    assert "ann.lee@example.com" not in sent and "4111" not in sent
    assert "[EMAIL_1]" in sent and "[CARD_1]" in sent
    assert asked[0].estimated_cost is not None and asked[0].estimated_cost > 0
    remote = answer.attempts[-1]
    assert answer.escalated and remote.payload_sha256 == payload_fingerprint(asked[0].messages)
    assert remote.redacted == {"EMAIL": 1, "CARD": 1} and remote.policy == "cloud-with-consent"

    result = subprocess.run(
        [sys.executable, "-m", "app", "audit", "--json"], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    trail = json.loads(result.stdout)
    assert len(trail) == 1 and trail[0]["tier"] == "cloud" and trail[0]["destination"].endswith("/v1")
    assert trail[0]["payload_sha256"] == remote.payload_sha256 and trail[0]["policy"] == "cloud-with-consent"
    assert trail[0]["cost"] > 0 and trail[0]["redacted"] == {"EMAIL": 1, "CARD": 1}
    assert trail[0]["location"] == "cloud" and trail[0]["basis"] == "approved for this message"
    assert trail[0]["outcome"] == "answered" and trail[0]["estimated_cost"] == asked[0].estimated_cost


def test_with_nothing_sent_the_audit_says_so(configured_home: Path):
    result = subprocess.run(
        [sys.executable, "-m", "app", "audit"], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert result.returncode == 0 and "Nothing has left this computer." in result.stdout


def test_a_message_over_the_per_message_budget_is_not_escalated(hearth_home: Path, model_file: Path):
    text = config_text(model_file, privacy="cloud-auto", threshold=1.0, server_location="cloud")
    text = text.replace("max_answer_tokens = 48", "max_answer_tokens = 48\nmessage_budget = 0.0001")
    write_user_config(
        hearth_home, text.replace('model = "smol-server"', 'model = "smol-server"\nprice_in = 3.0\nprice_out = 15.0')
    )
    session = open_session()
    try:
        events = list(session.chat.send(None, "Hello there!"))
    finally:
        session.close()
    answer = next(e.answer for e in events if isinstance(e, Finished))
    assert not answer.escalated and len(answer.attempts) == 1
    assert "over the per-message budget of $0.0001" in answer.reason


@pytest.mark.server
def test_a_conversation_kept_local_never_connects_even_when_the_app_allows_the_cloud(
    hearth_home: Path, model_file: Path, llama_server: str, monkeypatch: pytest.MonkeyPatch
):
    import socket

    text = config_text(
        model_file, privacy="cloud-auto", threshold=1.0, server_url=llama_server, server_location="cloud"
    )
    write_user_config(hearth_home, text)
    session = open_session()
    try:
        first = list(session.chat.send(None, "Hello!"))
        conversation = first[0].conversation_id
        assert next(e.answer for e in first if isinstance(e, Finished)).escalated
        session.chat.privacy.choose(conversation, Privacy.LOCAL_ONLY)
        connections: list[object] = []
        real_connect = socket.socket.connect
        monkeypatch.setattr(socket.socket, "connect", lambda s, a: (connections.append(a), real_connect(s, a))[1])
        second = list(session.chat.send(conversation, "And again?"))
        with pytest.raises(HearthError, match="local-only"):
            list(session.chat.reask(second[0].answer_id))
    finally:
        session.close()
    answer = next(e.answer for e in second if isinstance(e, Finished))
    assert not answer.escalated and connections == []


PASTED = {
    "CARD": "4111\u00a01111\u00a01111\u00a01111",  # from a PDF: no-break spaces
    "IBAN": "gb82-west-1234-5698-7654-32",
    "EMAIL": "jürgen@müller.de",
    "PHONE": "0612345678",
    "IP": "192\uff0e168\uff0e1\uff0e20",  # full-width dots
}


def test_pasted_and_typed_variants_are_found_and_the_user_keeps_their_own_text():
    redaction = Redaction()
    text = "Salut ! " + ", ".join(f"{kind}: {value}" for kind, value in PASTED.items()) + " — ｍｅｒｃｉ"
    hidden = redaction.redact(text)
    placeholders = ", ".join(f"{kind}: [{kind}_1]" for kind in PASTED)
    assert hidden == f"Salut ! {placeholders} — ｍｅｒｃｉ"
    assert redaction.restore(hidden) == text
    assert redaction.values == {f"[{kind}_1]": value for kind, value in PASTED.items()}


def test_one_value_written_two_ways_gets_one_placeholder():
    redaction = Redaction()
    hidden = redaction.redact(
        "Card 4111 1111 1111 1111, I mean 4111-1111-1111-1111; mail ANN@example.com or ann@EXAMPLE.com"
    )
    assert hidden == "Card [CARD_1], I mean [CARD_1]; mail [EMAIL_1] or [EMAIL_1]"
    assert redaction.found == {"CARD": 1, "EMAIL": 1}


def compact(text: str) -> str:
    """What a value is however it is written: folded, without spaces, dashes or dots, lower case."""
    from app.core.privacy.text_folding import fold

    return "".join(ch for ch in fold(text).text.lower() if ch.isalnum() or ch == "@")


def test_no_variant_of_a_value_reaches_a_cloud_server_and_the_reply_shows_the_users_own(
    hearth_home: Path, model_file: Path
):
    values = [*PASTED.values(), "m.rossi\uff20esempio.it", "tom\u200b@example.org", "5555.5555.5555.4444"]
    question = "Please remember: " + "; ".join(values) + ". Repeat them."
    with fault_server() as server:
        text = config_text(
            model_file, privacy="cloud-auto", threshold=1.0, server_url=f"{server}/openai-compatible/echo",
            server_location="cloud",
        )  # fmt: skip
        write_user_config(hearth_home, text)
        session = open_session()
        try:
            answer = next(e.answer for e in session.chat.send(None, question) if isinstance(e, Finished))
        finally:
            session.close()
        bodies = received()
    assert answer.escalated and bodies, "the question did not reach the cloud server"
    sent = [compact(message["content"]) for body in bodies for message in json.loads(body)["messages"]]
    for value in values:
        assert all(compact(value) not in content for content in sent), value
        assert value in answer.text  # the server echoed placeholders; the user reads their own values back
