"""The outgoing gate, case by case: each model of a tier is a destination of its own.

The real local model answers first (unsure by construction: threshold 0.99); the
destinations are real OpenAI-compatible servers on 127.0.0.1 that count every
connection (tests/destinations.py), or a port where nothing listens.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import wait
from pathlib import Path

import httpx
import pytest

from app.core.answers import Finished, TextDelta
from app.core.config.schema import Location, Privacy, RemoteModel
from app.core.errors import GateClosed, NoStrongerModel
from app.core.privacy.gate import Clearance, ConsentRequest, Decision, OutboundGate
from app.core.privacy.outbound import payload_fingerprint
from app.core.providers.base import Message
from app.core.providers.openai_compat import OpenAICompatibleProvider
from app.core.session import open_session
from app.core.storage.migrations import MIGRATIONS, m011_outbound_gate
from app.core.storage.outbound_records import OutboundRecords
from app.core.storage.store import Store
from tests.conftest import REPO, config_text, database_before, free_port, write_user_config
from tests.destinations import RecordingServer

QUESTION = "What is the capital of Peru?"


def refused() -> str:
    return f"http://127.0.0.1:{free_port()}/v1"


def remote(name: str, location: str, url: str, **extra: object) -> str:
    lines = [
        f"[models.{name}]",
        'provider = "openai-compatible"',
        f'location = "{location}"',
        f'base_url = "{url}"',
        f'model = "{name}-model"',
        "connect_timeout = 1.0",
        "read_timeout = 2.0",
    ]
    lines += [f"{key} = {json.dumps(value)}" for key, value in extra.items()]
    return "\n".join(lines) + "\n"


def configure(home: Path, model_file: Path, privacy: str, tier: str | None, models: list[str], *defined: str) -> None:
    """The real local model, then (unless ``tier`` is None) one tier of ``models``, defined by ``defined``."""
    text = config_text(model_file, privacy=privacy, threshold=0.99)
    settings = text[: text.index("[[tiers]]")]
    local = text[text.index("[models.smollm2-135m]") : text.index("[models.server]")]
    tiers = '[[tiers]]\nname = "local"\nmodels = ["smollm2-135m"]\n\n'
    if tier is not None:
        tiers += f'[[tiers]]\nname = "{tier}"\nmodels = {json.dumps(models)}\n\n'
    write_user_config(home, settings + tiers + local + "\n" + "\n".join(defined))


def ask(consent=None, conversation: int | None = None, question: str = QUESTION):
    session = open_session(consent=consent)
    try:
        events = list(session.chat.send(conversation, question))
        wait(session.chat.background.submitted, timeout=120)
    finally:
        session.close()
    answer = next(e.answer for e in events if isinstance(e, Finished))
    return answer, events[0].conversation_id, events[0].answer_id


def audit(home: Path):
    store = Store(home / "data" / "hearth.db")
    try:
        return list(reversed(OutboundRecords(store).audit()))
    finally:
        store.close()


def wake(model_id: str) -> None:
    session = open_session()
    try:
        session.chat.rests.wake([model_id])
    finally:
        session.close()


def answering(asked: list[ConsentRequest], decisions: dict[str, Decision]):
    def consent(request: ConsentRequest) -> Decision:
        asked.append(request)
        return decisions[request.model_id]

    return consent


def test_a_cloud_model_in_a_mixed_tier_is_never_reached_under_a_no_cloud_policy(
    hearth_home: Path, model_file: Path, servers: list[RecordingServer]
):
    cloudy = servers[0]
    configure(
        hearth_home,
        model_file,
        "local-and-self-hosted",
        "self-hosted",
        ["home-server", "cloudy"],
        remote("home-server", "self-hosted", refused()),
        remote("cloudy", "cloud", cloudy.url),
    )
    answer, _, _ = ask()
    cloudy.settle()
    assert cloudy.connections == 0 and cloudy.bodies == []
    assert answer.tier == "local" and not answer.escalated
    assert "Not cloudy (cloud): the privacy policy 'local-and-self-hosted' does not allow it" in answer.reason
    trail = audit(hearth_home)
    assert [(row.model, row.location) for row in trail] == [("home-server", "self-hosted")] * 3
    assert all("could not connect" in (row.outcome or "") for row in trail)


def test_a_second_cloud_model_is_asked_about_by_name_with_its_own_cost(
    hearth_home: Path, model_file: Path, servers: list[RecordingServer]
):
    cheap, pricey = servers
    cheap.reset("5xx")
    configure(
        hearth_home,
        model_file,
        "cloud-with-consent",
        "cloud",
        ["cheap", "pricey"],
        remote("cheap", "cloud", cheap.url, price_in=1.0, price_out=1.0),
        remote("pricey", "cloud", pricey.url, price_in=25.0, price_out=25.0),
    )
    asked: list[ConsentRequest] = []
    answer, _, _ = ask(answering(asked, {"cheap": Decision.ONCE, "pricey": Decision.ONCE}))
    cheap.settle()
    pricey.settle()
    assert [(r.model_id, r.address, r.location) for r in asked] == [
        ("cheap", cheap.url, Location.CLOUD),
        ("pricey", pricey.url, Location.CLOUD),
    ]
    assert asked[1].estimated_cost == pytest.approx(25 * asked[0].estimated_cost)
    assert "cheap did not answer" in asked[1].why and asked[1].host == "127.0.0.1"
    assert cheap.connections == 3, "one approval covers its own retries"
    assert pricey.connections == 1 and answer.model_id == "pricey"
    sent = [Message(m["role"], m["content"]) for m in pricey.bodies[0]["messages"]]
    assert payload_fingerprint(sent) == payload_fingerprint(list(asked[1].messages))
    trail = audit(hearth_home)
    assert [row.model for row in trail] == ["cheap"] * 3 + ["pricey"]
    assert {row.basis for row in trail} == {"approved for this message"}


def test_a_destination_without_its_key_is_skipped_before_anything_is_asked(
    hearth_home: Path, model_file: Path, servers: list[RecordingServer], keychain
):
    configure(
        hearth_home,
        model_file,
        "cloud-with-consent",
        "cloud",
        ["keyless"],
        remote("keyless", "cloud", servers[0].url, key="nokey"),
    )
    asked: list[ConsentRequest] = []
    answer, _, _ = ask(answering(asked, {"keyless": Decision.ONCE}))
    servers[0].settle()
    assert asked == [] and servers[0].connections == 0
    assert "Not the cloud tier: there is no API key 'nokey'" in answer.reason
    assert "hearth key set nokey" in answer.reason


def test_always_covers_the_destination_named_and_no_other(
    hearth_home: Path, model_file: Path, servers: list[RecordingServer]
):
    first, second = servers
    first.reset("5xx")
    configure(
        hearth_home,
        model_file,
        "cloud-with-consent",
        "cloud",
        ["first", "second"],
        remote("first", "cloud", first.url),
        remote("second", "cloud", second.url),
    )
    asked: list[ConsentRequest] = []
    consent = answering(asked, {"first": Decision.ALWAYS, "second": Decision.ONCE})
    _, conversation, _ = ask(consent)
    assert [r.model_id for r in asked] == ["first", "second"]
    wake("first")  # it failed three times and rests: let the next message try it again
    asked.clear()
    ask(consent, conversation, "And of Chile?")
    assert [r.model_id for r in asked] == ["second"], "'always' covered a destination the user never saw named"
    first.settle()
    assert first.connections == 6  # three tries per message, the second time without asking
    store = Store(hearth_home / "data" / "hearth.db")
    try:
        assert OutboundRecords(store).approved(conversation) == {("first", first.url)}
        assert store.conversation(conversation).privacy is None  # the policy itself is unchanged
    finally:
        store.close()
    session = open_session()
    try:
        session.chat.privacy.choose(conversation, Privacy.CLOUD_WITH_CONSENT)
    finally:
        session.close()
    wake("first")
    asked.clear()
    ask(consent, conversation, "And of Bolivia?")
    assert [r.model_id for r in asked] == ["first", "second"], "choosing the policy again forgets 'always'"


def test_never_narrows_the_conversation_so_the_cloud_is_not_asked_again(
    hearth_home: Path, model_file: Path, servers: list[RecordingServer]
):
    configure(
        hearth_home, model_file, "cloud-with-consent", "cloud", ["cloudy"], remote("cloudy", "cloud", servers[0].url)
    )
    asked: list[ConsentRequest] = []
    consent = answering(asked, {"cloudy": Decision.NEVER})
    answer, conversation, _ = ask(consent)
    assert "you chose never to send this conversation to cloud models" in answer.reason
    ask(consent, conversation, "And of Chile?")
    servers[0].settle()
    assert len(asked) == 1 and servers[0].connections == 0
    store = Store(hearth_home / "data" / "hearth.db")
    try:
        assert store.conversation(conversation).privacy == "local-and-self-hosted"
    finally:
        store.close()


def test_the_audit_names_each_destinations_real_location(
    hearth_home: Path, model_file: Path, servers: list[RecordingServer]
):
    configure(
        hearth_home,
        model_file,
        "cloud-auto",
        "self-hosted",
        ["home-server", "cloudy"],
        remote("home-server", "self-hosted", refused()),
        remote("cloudy", "cloud", servers[0].url),
    )
    answer, _, _ = ask()
    assert answer.model_id == "cloudy"
    result = subprocess.run(
        [sys.executable, "-m", "app", "audit", "--json"], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    trail = json.loads(result.stdout)
    assert [(row["model"], row["location"], row["tier"]) for row in trail][0] == ("cloudy", "cloud", "self-hosted")
    text = subprocess.run(
        [sys.executable, "-m", "app", "audit"], capture_output=True, text=True, cwd=REPO, timeout=60
    ).stdout
    assert "self-hosted: cloudy (cloud) → cloudy-model at " in text.splitlines()[0]
    assert "allowed by the privacy policy 'cloud-auto'" in text.splitlines()[0]


def test_a_shadow_run_goes_through_the_gate_and_into_the_audit(
    hearth_home: Path, model_file: Path, servers: list[RecordingServer]
):
    text = config_text(model_file, privacy="local-and-self-hosted", threshold=0.0, server_url=servers[0].url)
    write_user_config(hearth_home, text + '\n[shadow]\nmodel = "server"\nshare = 1.0\n')
    answer, _, answer_id = ask()
    servers[0].settle()
    assert answer.tier == "local" and servers[0].connections == 1
    trail = audit(hearth_home)
    assert [(row.purpose, row.model, row.location, row.message_id) for row in trail] == [
        ("shadow", "server", "self-hosted", answer_id)
    ]


def test_a_shadow_run_never_asks_so_it_never_reaches_a_cloud_that_needs_consent(
    hearth_home: Path, model_file: Path, servers: list[RecordingServer]
):
    text = config_text(
        model_file, privacy="cloud-with-consent", threshold=0.0, server_url=servers[0].url, server_location="cloud"
    )
    write_user_config(hearth_home, text + '\n[shadow]\nmodel = "server"\nshare = 1.0\n')
    asked: list[ConsentRequest] = []
    ask(answering(asked, {"server": Decision.ALWAYS}))
    servers[0].settle()
    assert asked == [] and servers[0].connections == 0 and audit(hearth_home) == []


def test_a_remote_provider_sends_nothing_without_a_clearance_for_it_and_those_messages(
    servers: list[RecordingServer], store: Store
):
    client = httpx.Client()
    config = RemoteModel(provider="openai-compatible", location="self-hosted", base_url=servers[0].url, model="m")
    first = OpenAICompatibleProvider("first", config, client)
    other = OpenAICompatibleProvider("other", config, client)
    messages = [Message("user", QUESTION)]
    with pytest.raises(GateClosed, match="did not pass the outgoing gate"):
        list(first.stream(messages, max_tokens=4))
    clearance = OutboundGate().passage(store, Privacy.SELF_HOSTED).clear(first, messages)
    with pytest.raises(GateClosed):
        list(other.stream(messages, max_tokens=4, clearance=clearance))
    with pytest.raises(GateClosed):
        list(first.stream([Message("user", "something else")], max_tokens=4, clearance=clearance))
    with pytest.raises(TypeError, match="Only the outgoing gate"):
        Clearance(first, tuple(messages), payload_fingerprint(messages), Privacy.CLOUD_AUTO, "forged", 0.0)
    servers[0].settle()
    assert servers[0].connections == 0
    assert "".join(c.text for c in first.stream(messages, max_tokens=4, clearance=clearance)) == "Lima is the capital."
    client.close()


def stopped_after_the_first_words(session, question: str) -> int:
    events = session.chat.send(None, question)
    answer_id = None
    for event in events:
        answer_id = getattr(event, "answer_id", answer_id)
        if isinstance(event, TextDelta):
            break
    events.close()  # what the Stop button does
    assert answer_id is not None
    return answer_id


def test_asking_a_stronger_model_after_stop_asks_a_stronger_tier(
    hearth_home: Path, model_file: Path, servers: list[RecordingServer]
):
    write_user_config(hearth_home, config_text(model_file, privacy="local-and-self-hosted", server_url=servers[0].url))
    session = open_session()
    try:
        answer_id = stopped_after_the_first_words(session, "Tell me a long story about a lighthouse.")
        again = list(session.chat.reask(answer_id))
        store = session.open_store()
        try:
            attempts = store.attempts(answer_id)
            routing = store.routing_events()
            message = store.message(answer_id)
        finally:
            store.close()
    finally:
        session.close()
    stronger = next(e.answer for e in again if isinstance(e, Finished))
    assert stronger.tier == "self-hosted" and message.content == stronger.text == "Lima is the capital."
    assert [(a.tier, a.trigger, a.error) for a in attempts] == [
        ("local", "auto", "Interrupted before it finished."),
        ("self-hosted", "user", None),
    ]
    assert [(e.from_tier, e.to_tier) for e in routing] == [("local", "self-hosted")]


def test_with_no_tier_above_a_re_ask_says_none_is_configured_and_how_to_add_one(hearth_home: Path, model_file: Path):
    configure(hearth_home, model_file, "cloud-auto", None, [])
    _, _, answer_id = ask()
    session = open_session()
    try:
        with pytest.raises(NoStrongerModel) as caught:
            session.chat.stronger(answer_id)
    finally:
        session.close()
    assert not caught.value.configured and "there is no tier above local" in str(caught.value)
    result = subprocess.run(
        [sys.executable, "-m", "app", "reask", str(answer_id)], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert result.returncode == 1 and "No stronger model can answer this" in result.stderr
    assert "Add a self-hosted server or a cloud model as a tier in" in result.stderr


def test_a_re_ask_the_policy_forbids_says_which_tier_and_why(configured_home: Path):
    _, conversation, answer_id = ask()
    result = subprocess.run(
        [sys.executable, "-m", "app", "reask", str(answer_id)], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert result.returncode == 1
    assert "Not the self-hosted tier: the privacy policy 'local-only' does not allow it" in result.stderr
    assert f"hearth privacy {conversation} POLICY" in result.stderr and "Traceback" not in result.stderr


def test_a_server_that_keeps_failing_rests_across_runs_says_so_and_can_be_woken(hearth_home: Path, model_file: Path):
    write_user_config(hearth_home, config_text(model_file, privacy="local-and-self-hosted", threshold=0.99))
    first, _, first_id = ask()
    assert "server failed 3 times; it rests for 60 s" in first.reason
    second, conversation, second_id = ask()  # another run of Hearth, as a second `hearth ask` is
    assert "server is resting for" in second.reason and "after repeated failures" in second.reason
    assert [row.model for row in audit(hearth_home)] == ["server"] * 3, "a resting server was asked again"
    listing = subprocess.run([sys.executable, "-m", "app", "models"], capture_output=True, text=True, cwd=REPO)
    assert "resting" in listing.stdout and "hearth models --wake" in listing.stdout
    session = open_session()
    try:
        assert set(session.chat.rests.resting(second_id)) == {"server"}
    finally:
        session.close()
    subprocess.run([sys.executable, "-m", "app", "models", "--wake"], capture_output=True, cwd=REPO, check=True)
    ask()
    assert [row.model for row in audit(hearth_home)] == ["server"] * 6, "after --wake the server is asked again"


def test_what_an_earlier_version_audited_stays_in_the_audit(tmp_path: Path):
    path = tmp_path / "hearth.db"
    old = database_before(path, MIGRATIONS[: MIGRATIONS.index(m011_outbound_gate)])
    old["conversations"].insert({"id": 1, "title": "old", "created_at": "t", "updated_at": "t"})
    old["messages"].insert(
        {"id": 7, "conversation_id": 1, "role": "assistant", "content": "Lima", "status": "complete", "created_at": "t"}
    )
    common = {"message_id": 7, "text": "", "signals": "{}", "created_at": "2026-01-02T10:00:00"}
    old["attempts"].insert_all(
        [
            {**common, "position": 0, "tier": "local", "model": "small", "location": "local", "cost": 0.0},
            {
                **common,
                "position": 1,
                "tier": "cloud",
                "model": "gpt",
                "location": "cloud",
                "destination": "gpt-4o at https://api.openai.com/v1",
                "policy": "cloud-with-consent",
                "payload_sha256": "ab" * 32,
                "cost": 0.002,
            },
        ]
    )
    old.close()
    store = Store(path)
    try:
        trail = OutboundRecords(store).audit()
    finally:
        store.close()
    assert [(r.model, r.location, r.destination, r.payload_sha256, r.cost, r.conversation_id) for r in trail] == [
        ("gpt", "cloud", "gpt-4o at https://api.openai.com/v1", "ab" * 32, 0.002, 1)
    ]


@pytest.mark.parametrize("location, privacy", [("self-hosted", "local-and-self-hosted"), ("cloud", "cloud-auto")])
def test_a_proxy_from_the_environment_carries_cloud_requests_but_never_a_self_hosted_conversation(
    hearth_home: Path, model_file: Path, servers: list[RecordingServer], monkeypatch, location: str, privacy: str
):
    # The consent names the server: a proxy on the way would read a plain-http conversation whole.
    server, proxy = servers
    for variable in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy.url.removesuffix("/v1"))
    text = config_text(model_file, privacy=privacy, threshold=1.0, server_url=server.url, server_location=location)
    write_user_config(hearth_home, text)
    session = open_session()
    try:
        [answer] = [e.answer for e in session.chat.send(None, QUESTION) if isinstance(e, Finished)]
    finally:
        session.close()
    server.settle()
    proxy.settle()
    assert answer.model_id == "server"
    reached, passed = (server, proxy) if location == "self-hosted" else (proxy, server)
    assert reached.connections == 1 and passed.connections == 0
    assert QUESTION in json.dumps(reached.bodies)


def test_never_said_for_one_part_of_a_plan_holds_for_the_parts_beside_it_and_what_joins_them(store: Store):
    """Plan mode runs parts on threads of their own, each with a passage alongside the message's."""
    client = httpx.Client()
    cloud = "https://api.example.com/v1"
    config = RemoteModel(provider="openai-compatible", location="cloud", base_url=cloud, model="m")
    approved = OpenAICompatibleProvider("approved", config, client)  # "always" for this conversation, earlier
    other = OpenAICompatibleProvider("other", config.model_copy(update={"base_url": "https://x.example/v1"}), client)
    conversation = store.create_conversation("Plan")
    OutboundRecords(store).approve(conversation, "approved", approved.address, "cloud")
    asked: list[str] = []

    def never(request: ConsentRequest) -> Decision:
        asked.append(request.model_id)
        return Decision.NEVER

    gate = OutboundGate(never)
    main = gate.passage(store, Privacy.CLOUD_WITH_CONSENT, conversation_id=conversation)
    part_one, part_two = gate.alongside(store, main), gate.alongside(store, main)
    messages = [Message("user", QUESTION)]
    part_two.clear(approved, messages)  # approved before anyone said never
    with pytest.raises(GateClosed, match="never"):
        part_one.clear(other, messages)
    for passage in (main, part_two):  # neither the join nor the other part sends it anywhere in the cloud
        assert passage.privacy is Privacy.SELF_HOSTED
        with pytest.raises(GateClosed, match="does not allow it"):
            passage.clear(approved, messages)
    assert asked == ["other"]
    client.close()
