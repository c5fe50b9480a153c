"""Adding a provider as a user does: presets, prices, keys, Verify, the model list, tiers, the CLI.

Verify and the model list run against llama-cpp-python's real server on 127.0.0.1; the SaaS
lists and error bodies come from httpx.MockTransport fixtures in each service's wire format.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import httpx
import pytest

from app.cli.main import main
from app.core.config import key_list
from app.core.config.load import load_config
from app.core.config.presets import preset, presets
from app.core.config.schema import Location, Privacy
from app.core.errors import (
    GateClosed,
    InvalidInput,
    ProviderAuthError,
    ProviderNoCredit,
    ProviderNotFound,
    ProviderRateLimited,
    ProviderUnreachable,
)
from app.core.paths import user_paths
from app.core.providers.base import Message
from app.core.providers.pricing import Pricing, price_table, price_text
from app.core.providers.registry import ProviderRegistry
from app.core.services import checks, discovery, operations
from app.core.services.connection import Connection
from app.core.services.overview import tier_rows, unused_models
from app.core.storage.outbound_records import OutboundRecords
from tests.conftest import config_text, free_port, through_gate, write_user_config
from tests.wire_formats import (
    ERROR_BODIES,
    anthropic_model_page,
    gemini_model_page,
    openai_model_list,
    openai_stream,
    openrouter_model_list,
)

ISSUE_PROVIDERS = {
    "OpenAI": "cloud", "Anthropic": "cloud", "Google Gemini": "cloud", "DeepSeek": "cloud", "Mistral": "cloud",
    "Groq": "cloud", "OpenRouter": "cloud", "Together AI": "cloud", "xAI": "cloud", "Ollama": "self-hosted",
    "LM Studio": "self-hosted", "llama-server (llama.cpp)": "self-hosted", "vLLM": "self-hosted",
    "Any OpenAI-compatible server": "self-hosted",
}  # fmt: skip


def mock(handler) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler))


def home_server(url: str) -> Connection:
    return Connection.of(preset("openai-compatible"), name="home", base_url=url, location="self-hosted")


# Presets and prices
def test_every_provider_of_the_issue_is_known_with_its_address_location_and_key_variable():
    known = {p.name: p for p in presets()}
    assert {name: known[name].location.value for name in ISSUE_PROVIDERS} == ISSUE_PROVIDERS
    for p in known.values():
        assert p.custom or p.base_url.startswith(("https://", "http://127.0.0.1:"))
        if p.location is Location.CLOUD:
            assert p.base_url.startswith("https://") and p.key_variable == f"HEARTH_KEY_{p.key.upper()}"
            assert p.suggested in price_table().models_of(p.id), f"{p.id} suggests a model without a price"


def test_a_cloud_service_cannot_be_set_up_as_a_self_hosted_server():
    # Whether the policy lets a conversation go, and whether it asks first, is decided on the location.
    for chosen, address in ((preset("openai"), None), (preset("ollama"), "https://api.anthropic.com")):
        with pytest.raises(InvalidInput, match="cloud service") as refused:
            Connection.of(chosen, base_url=address, location="self-hosted")
        assert "'cloud'" in str(refused.value)
    assert Connection.of(preset("ollama"), base_url="http://192.168.1.20:11434/v1").location is Location.SELF_HOSTED


def test_a_server_cannot_take_a_known_service_s_name_and_with_it_that_service_s_keys():
    with pytest.raises(InvalidInput, match="name of OpenAI"):
        Connection.of(preset("openai-compatible"), name="openai", base_url="https://llm.example.org/v1", with_key=True)
    own = Connection.of(
        preset("openai-compatible"), name="my-openai", base_url="https://llm.example.org/v1", with_key=True
    )
    assert own.key == "my-openai"
    assert Connection.of(preset("openai")).key == "openai"


def test_the_price_table_is_dated_and_unknown_prices_read_unknown_never_zero():
    table = price_table()
    assert table.taken.year >= 2025
    assert table.listed("anthropic", "claude-sonnet-4-5-20250929").price_out == 15.0  # a dated snapshot
    assert table.listed("openai", "gpt-4o-mini-2024-07-18").price_in == 0.15
    assert table.listed("openai", "gpt-4o-audio-preview") is None  # another model, not a snapshot
    assert price_text(None) == "unknown"
    assert "$0" not in price_text(None)


def test_a_cloud_model_without_prices_in_models_toml_costs_what_the_table_says(model_file: Path, tmp_path: Path):
    text = config_text(model_file, server_url="https://api.openai.com/v1", server_location="cloud").replace(
        'model = "smol-server"', 'model = "gpt-4.1-mini"'
    )
    write_user_config(tmp_path, text)
    config = load_config(type(user_paths())(data=tmp_path / "data", config=tmp_path / "config"))
    assert Pricing(config).cost("server", 1_000_000, 1_000_000) == pytest.approx(0.40 + 1.60)
    assert Pricing(config).price("server").source.startswith("Hearth's price table of")


# Verify and the model list, against llama.cpp's real server
def test_verify_lists_the_models_and_gets_one_token_through_the_gate(llama_server: str, store):
    verified = checks.verify(home_server(llama_server), [], store, Privacy.SELF_HOSTED, httpx.Client())
    assert verified.model == "smol-server" and [m.id for m in verified.models] == ["smol-server"]
    audit = sorted(OutboundRecords(store).audit(), key=lambda row: row.id)
    assert [row.purpose for row in audit] == ["model list", "verify"]
    assert all(row.address == llama_server and row.outcome == "answered" for row in audit)


def test_verify_sends_nothing_where_the_privacy_policy_forbids_and_says_what_to_change(servers, store):
    with pytest.raises(GateClosed, match="privacy setting 'Local only' does not allow self-hosted") as caught:
        checks.verify(home_server(servers[0].url), [], store, Privacy.LOCAL_ONLY, httpx.Client())
    assert "Settings → Privacy" in str(caught.value)
    assert servers[0].connections == 0 and OutboundRecords(store).audit() == []


def test_a_cloud_service_without_a_key_is_not_asked(store, keychain):
    def service(request: httpx.Request) -> httpx.Response:
        raise AssertionError("a request went out without a key")

    with pytest.raises(GateClosed, match="no API key 'openai'"):
        checks.fetch_models(Connection.of(preset("openai")), [], store, Privacy.CLOUD_AUTO, mock(service))


def test_unreachable_offline_and_tls_failures_read_as_plain_words(llama_server: str, store):
    closed = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(
        ProviderUnreachable, match="could not connect to .*: nothing answers there.*Is the server running"
    ):
        checks.fetch_models(home_server(closed), [], store, Privacy.SELF_HOSTED, httpx.Client())
    offline = Connection.of(preset("openai"), base_url="https://api.nowhere.invalid/v1")
    with pytest.raises(ProviderUnreachable, match="cannot find api.nowhere.invalid: this computer seems to be offline"):
        checks.fetch_models(offline, ["sk-test-key-0001"], store, Privacy.CLOUD_AUTO, httpx.Client())
    plain_http_as_tls = home_server(llama_server.replace("http://", "https://"))
    with pytest.raises(ProviderUnreachable, match=r"secure \(TLS\) connection to 127.0.0.1 failed"):
        checks.fetch_models(plain_http_as_tls, [], store, Privacy.SELF_HOSTED, httpx.Client())


@pytest.mark.parametrize(
    ("status", "kind", "error", "words"),
    [
        (401, "invalid_request_error", ProviderAuthError, "refused the API key"),
        (429, "insufficient_quota", ProviderNoCredit, "no credit left"),
        (402, "payment_required", ProviderNoCredit, "billing page"),
        (429, "rate_limit_exceeded", ProviderRateLimited, "second key"),
        (404, "not_found", ProviderNotFound, "Check the address"),
    ],
)
def test_service_errors_read_as_plain_words_without_the_key(store, status, kind, error, words):
    key = "sk-proj-abcdefghijklmnop1234"
    body = ERROR_BODIES["openai-compatible"](kind, f"Incorrect API key provided: {key}.")
    body["error"]["code"] = kind

    def service(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body)

    with pytest.raises(error, match=words) as caught:
        checks.fetch_models(Connection.of(preset("openai")), [key], store, Privacy.CLOUD_AUTO, mock(service))
    assert key not in str(caught.value)


def test_anthropic_and_gemini_lists_are_read_page_by_page_with_their_own_headers(store):
    seen: list[httpx.Request] = []

    def anthropic(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.params.get("after_id") == "claude-sonnet-4-5-20250929":
            return httpx.Response(200, json=anthropic_model_page(["claude-3-5-haiku-20241022"], False))
        return httpx.Response(200, json=anthropic_model_page(["claude-haiku-4-5", "claude-sonnet-4-5-20250929"], True))

    listed = checks.fetch_models(
        Connection.of(preset("anthropic")), ["sk-ant-0123456789"], store, Privacy.CLOUD_AUTO, mock(anthropic)
    )
    assert [m.id for m in listed] == ["claude-3-5-haiku-20241022", "claude-haiku-4-5", "claude-sonnet-4-5-20250929"]
    assert price_text(listed[2].price) == "$3 in / $15 out per million tokens"
    assert seen[0].headers["x-api-key"] == "sk-ant-0123456789" and seen[0].url.path == "/v1/models"

    def gemini(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.params.get("pageToken") == "next":
            return httpx.Response(200, json=gemini_model_page({"gemini-2.5-pro": ["generateContent"]}, None))
        page = {"gemini-2.5-flash": ["generateContent", "countTokens"], "text-embedding-004": ["embedContent"]}
        return httpx.Response(200, json=gemini_model_page(page, "next"))

    listed = checks.fetch_models(
        Connection.of(preset("gemini")), ["AIza-test-key-1"], store, Privacy.CLOUD_AUTO, mock(gemini)
    )
    assert [(m.id, m.context) for m in listed] == [("gemini-2.5-flash", 1048576), ("gemini-2.5-pro", 1048576)]
    assert seen[-1].headers["x-goog-api-key"] == "AIza-test-key-1" and seen[-1].url.path == "/v1beta/models"
    assert [row.purpose for row in OutboundRecords(store).audit()] == ["model list", "model list"]


def test_openai_lists_only_chat_models_and_openrouter_prices_come_from_its_list(store):
    everything = ["gpt-4.1-mini", "text-embedding-3-small", "whisper-1", "dall-e-3", "gpt-4o"]
    listed = checks.fetch_models(
        Connection.of(preset("openai")), ["sk-a-key-123"], store, Privacy.CLOUD_AUTO,
        mock(lambda r: httpx.Response(200, json=openai_model_list(everything))),
    )  # fmt: skip
    assert [m.id for m in listed] == ["gpt-4.1-mini", "gpt-4o"]
    routed = openrouter_model_list({"some/new-model": ("0.0000005", "0.0000015")})
    listed = checks.fetch_models(
        Connection.of(preset("openrouter")), ["sk-or-key-123"], store, Privacy.CLOUD_AUTO,
        mock(lambda r: httpx.Response(200, json=routed)),
    )  # fmt: skip
    assert (listed[0].price.price_in, listed[0].price.price_out) == pytest.approx((0.5, 1.5))


# Several keys per service
def test_the_next_key_is_used_when_the_first_is_refused_or_rate_limited(model_file, hearth_home, keychain):
    for value in ("sk-first-key-0001", "sk-second-key-0002", "sk-third-key-00003"):
        key_list.add_key("openai", value)
    assert key_list.status("openai").summary() == "3 keys (keychain)"
    refused = {"sk-first-key-0001": 401, "sk-second-key-0002": 429}
    used: list[str] = []

    def service(request: httpx.Request) -> httpx.Response:
        key = request.headers["Authorization"].removeprefix("Bearer ")
        used.append(key)
        if key in refused:
            return httpx.Response(refused[key], json=ERROR_BODIES["openai-compatible"]("x", f"bad key {key}"))
        return httpx.Response(200, text=openai_stream(["Hi"]), headers={"content-type": "text/event-stream"})

    text = config_text(model_file, server_url="https://api.openai.com/v1", server_location="cloud")
    write_user_config(hearth_home, text.replace('model = "smol-server"', 'model = "gpt-4.1-mini"\nkey = "openai"'))
    registry = ProviderRegistry(load_config(user_paths()), hearth_home)
    registry._http = {Location.CLOUD: mock(service)}
    remote = registry.get("server")
    hello = [Message("user", "hello")]
    assert "".join(c.text for c in through_gate(remote, hello, max_tokens=4)) == "Hi"
    assert used == ["sk-first-key-0001", "sk-second-key-0002", "sk-third-key-00003"]
    list(through_gate(remote, hello, max_tokens=4))
    assert used[-1] == "sk-third-key-00003"  # the key that worked stays in use
    refused["sk-third-key-00003"] = 401
    with pytest.raises((ProviderAuthError, ProviderRateLimited)) as caught:  # every key tried once, then the error
        list(through_gate(remote, hello, max_tokens=4))
    assert used[-3:] == ["sk-third-key-00003", "sk-first-key-0001", "sk-second-key-0002"]
    assert not any(k in str(caught.value) for k in refused)
    registry.close()


def test_without_a_keychain_the_key_status_names_the_exact_environment_variable(no_keychain):
    status = key_list.status("openai")
    assert "HEARTH_KEY_OPENAI" in status.no_keychain_note() and "HEARTH_KEY_OPENAI_2" in status.no_keychain_note()
    assert status.summary() == "no key: this computer has no keychain, set HEARTH_KEY_OPENAI"


def test_removing_a_key_moves_the_later_ones_up(keychain):
    for value in ("sk-first-key-0001", "sk-second-key-0002"):
        key_list.add_key("groq", value)
    key_list.remove_key("groq", 0)
    assert key_list.api_keys("groq") == ["sk-second-key-0002"]


# Into a tier, and what the tiers view shows
def test_adding_prices_the_model_from_the_table_and_makes_the_tiers_in_order(configured_home, keychain):
    paths = user_paths()
    added = operations.add_model(paths, Connection.of(preset("openai")), "gpt-4.1-mini")
    assert (added.tier, added.model_id) == ("cloud", "openai-gpt-4-1-mini")
    assert (added.config.models[added.model_id].price_in, added.config.models[added.model_id].price_out) == (0.4, 1.6)
    unknown = operations.add_model(paths, Connection.of(preset("openai")), "gpt-9-experimental")
    home = operations.add_model(paths, home_server("http://127.0.0.1:8080/v1"), "qwen")
    config = load_config(paths)
    assert [t.name for t in config.tiers] == ["local", "self-hosted", "cloud"]
    assert config.tiers[2].models == ["openai-gpt-4-1-mini", "openai-gpt-9-experimental"]
    rows = {row.model_id: row for row in tier_rows(config)}
    assert rows[unknown.model_id].price == "unknown"
    assert rows[home.model_id].price == "free"
    assert rows[added.model_id].key == "no key"


@pytest.mark.parametrize(
    ("privacy", "server", "cloud"),
    [
        ("local-only", "never", "never"),
        ("cloud-with-consent", "allowed", "asks first"),
        ("cloud-auto", *["allowed"] * 2),
    ],
)
def test_each_row_says_what_the_privacy_policy_does_with_it(model_file, hearth_home, privacy, server, cloud):
    write_user_config(hearth_home, config_text(model_file, privacy=privacy))
    operations.add_model(user_paths(), Connection.of(preset("deepseek")), "deepseek-chat")
    effects = {row.location: row.effect for row in tier_rows(load_config(user_paths()))}
    assert effects == {Location.LOCAL: "allowed", Location.SELF_HOSTED: server, Location.CLOUD: cloud}


def test_a_model_in_no_tier_is_reported(model_file, hearth_home):
    write_user_config(hearth_home, config_text(model_file).replace('models = ["server"]', 'models = ["smollm2-135m"]'))
    config = load_config(user_paths())
    assert unused_models(config) == ["server"]
    assert [row.tier for row in tier_rows(config)][-1] is None


def test_reordering_tiers_keeps_their_settings_and_refuses_a_remote_first_tier(configured_home):
    operations.add_model(user_paths(), Connection.of(preset("mistral")), "mistral-small-latest")
    order = [("local", ["smollm2-135m"]), ("cloud", ["mistral-mistral-small-latest"]), ("self-hosted", ["server"])]
    assert [t.name for t in operations.reorder_tiers(user_paths(), order).tiers] == ["local", "cloud", "self-hosted"]
    with pytest.raises(Exception, match="the first tier must be a local model"):
        operations.reorder_tiers(user_paths(), [order[1], order[0], order[2]])
    assert [t.name for t in load_config(user_paths()).tiers] == ["local", "cloud", "self-hosted"]


# Servers on this computer
def test_find_servers_asks_the_given_ports_and_finds_a_running_server(llama_server: str):
    port = int(llama_server.rsplit(":", 1)[1].split("/")[0])
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nothing = closed.getsockname()[1]
    found = discovery.find_servers([port, nothing])
    assert [(s.base_url, s.models) for s in found] == [(llama_server, ["smol-server"])]
    assert discovery.usual_ports() == [11434, 1234, 8080, 8000]


# The command line
def test_the_command_line_adds_verifies_lists_and_removes_a_server(llama_server, configured_home, capsys, keychain):
    def run(*args: str) -> dict | list:
        assert main(list(args)) == 0, capsys.readouterr().err
        return json.loads(capsys.readouterr().out)

    added = run("providers", "add", "openai-compatible", "--name", "home", "--base-url", llama_server,
                "--location", "self-hosted", "--verify", "--privacy", "local-and-self-hosted", "--json")  # fmt: skip
    assert added == {"model_id": "home-smol-server", "tier": "self-hosted", "price": added["price"], "verified": True}
    listed = run("providers", "list", "--json")
    assert [(s["name"], s["models"]) for s in listed["configured"]] == [
        ("127.0.0.1:9", ["server"]),  # the test configuration's own, named by its host
        ("home", ["home-smol-server"]),
    ]
    assert [m["id"] for m in run("providers", "models", "home", "--privacy", "cloud-auto", "--json")] == ["smol-server"]
    assert run("providers", "verify", "home", "--privacy", "cloud-auto", "--json")["model"] == "smol-server"
    assert run("providers", "remove", "home", "--json")["removed"] == ["home-smol-server"]
    assert "home-smol-server" not in load_config(user_paths()).models


def test_the_command_line_add_with_a_key_from_an_environment_variable(configured_home, capsys, keychain, monkeypatch):
    monkeypatch.setenv("MY_OPENAI_KEY", "sk-from-the-environment-1")
    assert main(["providers", "add", "openai", "--key-env", "MY_OPENAI_KEY"]) == 0
    assert "Added openai-gpt-4-1-mini to the tier 'cloud' ($0.4 in / $1.6 out" in capsys.readouterr().out
    assert key_list.api_keys("openai") == ["sk-from-the-environment-1"]
