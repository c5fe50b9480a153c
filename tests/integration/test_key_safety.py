"""Keys are checked where they come in, scrubbed from every error in every form, and never sent in clear.

A real service on 127.0.0.1 (tests/fault_server.py) refuses the key and quotes it back, whole, escaped,
URL-encoded and masked, as careless services do; the key must reach no output, file or export.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from app.core.config.schema import RemoteModel
from app.core.errors import ProviderError
from app.core.providers.base import Message
from app.core.providers.registry import REMOTE_PROVIDERS
from tests.conftest import REPO, config_text, through_gate, write_user_config
from tests.fault_server import KINDS, fault_server, key_echo, presented_keys

KEY = "sk-proj-Zq81vT0c5Lw3Hn7RbYe2"


def every_form(key: str) -> list[str]:
    """How a key may be written: raw, JSON-escaped, URL-encoded, repr, its start, its masked form."""
    return [key.strip(), json.dumps(key)[1:-1], quote(key, safe=""), repr(key)[1:-1], key[:10], f"{key[:5]}***"]


def assert_nowhere(key: str, *texts: str) -> None:
    for text in texts:
        for form in every_form(key):
            assert form not in text, f"{form!r} leaked in {text[:300]!r}"


def hearth(home: Path, *args: str, env: dict[str, str] | None = None, stdin: str = "") -> subprocess.CompletedProcess:
    home.mkdir(parents=True, exist_ok=True)
    environment = {
        **os.environ,
        "HEARTH_HOME": str(home),
        "PYTHON_KEYRING_BACKEND": "tests.file_keychain.FileKeychain",
        "HEARTH_TEST_KEYCHAIN": str(home / "keychain.json"),
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        input=stdin, capture_output=True, text=True, cwd=REPO, env=environment, timeout=300,
    )  # fmt: skip


def keychain(home: Path) -> dict[str, str]:
    file = home / "keychain.json"
    return json.loads(file.read_text()) if file.exists() else {}


@pytest.mark.parametrize("typed", [KEY + "\n", "  " + KEY + " \r\n", KEY + "\t"])
def test_key_set_strips_the_spaces_and_line_breaks_around_a_pasted_key(hearth_home: Path, typed: str):
    result = hearth(hearth_home, "key", "set", "openai", stdin=typed)
    assert result.returncode == 0, result.stderr
    assert keychain(hearth_home) == {"Hearth/openai": KEY}


@pytest.mark.parametrize(
    "typed, what",
    [
        ("sk-proj-Zq81 vT0c5Lw3Hn7RbYe2", "a space or line break at position 13"),
        ("sk-proj-Zq81\x1bvT0c5Lw3Hn7RbYe2", "a control character at position 13"),
        ("sk-proj-Zq81\u00e9vT0c5Lw3Hn7RbYe2", "a non-ASCII character at position 13"),
    ],
)
def test_a_key_no_http_header_can_carry_is_refused_without_being_echoed(hearth_home: Path, typed: str, what: str):
    result = hearth(hearth_home, "key", "set", "openai", stdin=typed + "\n")
    assert result.returncode == 1 and what in result.stderr and "nothing was used or stored" in result.stderr
    assert keychain(hearth_home) == {}
    assert_nowhere(typed, result.stdout + result.stderr)


def cloud_config(model_file: Path, url: str) -> str:
    text = config_text(model_file, privacy="cloud-auto", threshold=1.0, server_url=url, server_location="cloud")
    return text.replace('model = "smol-server"', 'model = "smol-server"\nkey = "cloud"')


@pytest.mark.server
def test_a_key_from_the_environment_is_sent_stripped_and_an_unusable_one_is_not_sent(
    hearth_home: Path, model_file: Path
):
    with fault_server() as server:
        write_user_config(hearth_home, cloud_config(model_file, f"{server}/openai-compatible/echo"))
        sent = hearth(hearth_home, "ask", "--json", "Hello?", env={"HEARTH_KEY_CLOUD": KEY + "\n"})
        refused = hearth(hearth_home, "ask", "--json", "Hello again?", env={"HEARTH_KEY_CLOUD": "sk-12\n34"})
        keys = presented_keys()
    assert json.loads(sent.stdout)["tier"] == "cloud" and keys == [KEY]  # one request, the key without its newline
    answer = json.loads(refused.stdout)
    assert answer["tier"] == "local" and [attempt["tier"] for attempt in answer["attempts"]] == ["local"]
    assert (
        "Not the cloud tier: The key in the environment variable HEARTH_KEY_CLOUD has a space or line break"
        in (answer["reason"])
    )
    assert_nowhere("sk-12\n34", refused.stdout + refused.stderr)


@pytest.mark.server
def test_a_key_a_service_quotes_back_reaches_no_output_database_or_export(hearth_home: Path, model_file: Path):
    with fault_server() as server:
        write_user_config(hearth_home, cloud_config(model_file, f"{server}/openai-compatible/echo%20key"))
        env = {"HEARTH_KEY_CLOUD": KEY}
        outputs = [hearth(hearth_home, "ask", "--json", "Hello?", env=env), hearth(hearth_home, "ask", "Hi!", env=env)]
        assert presented_keys() == [KEY, KEY]
    outputs += [
        hearth(hearth_home, "export", str(hearth_home / "export.json"), env=env),
        hearth(hearth_home, "export", "--format", "md", str(hearth_home / "export.md"), env=env),
        hearth(hearth_home, "audit", "--json", env=env),
        hearth(hearth_home, "stats", env=env),
    ]
    error = json.loads(outputs[0].stdout)["attempts"][1]["error"]
    assert "refused the API key (HTTP 401: Incorrect API key provided: [key removed]" in error
    assert_nowhere(KEY, *(result.stdout + result.stderr for result in outputs))
    files = [path for path in hearth_home.rglob("*") if path.is_file() and path.name != "keychain.json"]
    assert {"hearth.db", "export.json", "export.md"} <= {path.name for path in files}
    for path in files:
        assert_nowhere(KEY, path.read_bytes().decode("utf-8", "replace"))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("key", [KEY, "abc123", "sk-ab\ncd-trailing-newline\n"])
def test_every_provider_error_leaves_the_key_out_whatever_the_service_or_the_http_library_echoes(kind: str, key: str):
    """Short keys too, and keys no header can carry (stored by another program): the header error quotes them."""
    model = RemoteModel(
        provider="openai-compatible", location="cloud", base_url="http://127.0.0.1:9", model="m", key="cloud"
    )
    with fault_server() as server, httpx.Client() as client:
        config = model.model_copy(update={"base_url": f"{server}/{kind}/echo%20key"})
        provider = REMOTE_PROVIDERS[kind]("cloud", config, client, api_key=key)
        with pytest.raises(ProviderError) as raised:
            list(through_gate(provider, [Message("user", "hi")], max_tokens=4))
    assert_nowhere(key, str(raised.value))
    assert "[key removed]" in str(raised.value) or "header" in str(raised.value).lower()


def test_scrubbing_finds_the_forms_services_write_a_key_in():
    from app.core.config.key_scrubbing import scrub_keys

    text = key_echo(KEY) + f" Basic {base64.b64encode(KEY.encode()).decode()} …{KEY[-4:]}"
    scrubbed = scrub_keys(text, [KEY])
    assert_nowhere(KEY, scrubbed)
    assert scrubbed == (
        'Incorrect API key provided: [key removed]. You sent "[key removed]" (url: [key removed], '
        "repr: '[key removed]', start: [key removed]) Basic [key removed] [key removed]"
    )
    assert scrub_keys("nothing secret here: sk-other-key", [KEY]) == "nothing secret here: sk-other-key"


@pytest.mark.parametrize(
    "base_url, key, problem",
    [
        ("http://api.example.com/v1", "work", "is plain http to api.example.com, so the API key 'work' would cross"),
        ("http://192.168.1.20:8080/v1", "lan", "Use https://"),
        ("https://api.openai.com@127.0.0.1:9/v1", None, "contains a user name or password before '@'"),
        ("https://user:pw@api.example.com/v1", "k", "contains a user name or password before '@'"),
    ],
)
def test_config_refuses_a_key_in_clear_over_the_network_and_addresses_with_a_user_name(
    hearth_home: Path, model_file: Path, base_url: str, key: str | None, problem: str
):
    text = config_text(model_file, server_url=base_url, server_location="cloud")
    if key:
        text = text.replace('model = "smol-server"', f'model = "smol-server"\nkey = "{key}"')
    write_user_config(hearth_home, text)
    result = hearth(hearth_home, "models")
    assert result.returncode == 2 and "key 'models.server.base_url'" in result.stderr and problem in result.stderr


def test_plain_http_with_a_key_is_fine_to_this_computer_itself(hearth_home: Path, model_file: Path):
    for url in ("http://127.0.0.1:8080/v1", "http://localhost:8080/v1", "http://[::1]:8080/v1"):
        text = config_text(model_file, server_url=url).replace(
            'model = "smol-server"', 'model = "smol-server"\nkey = "home"'
        )
        write_user_config(hearth_home, text)
        assert hearth(hearth_home, "models").returncode == 0, url


@pytest.mark.parametrize("name", ["WORK OPENAI", "straße", "../etc", ""])
def test_a_key_name_outside_the_safe_characters_is_refused(hearth_home: Path, model_file: Path, name: str):
    text = config_text(model_file).replace('model = "smol-server"', f'model = "smol-server"\nkey = "{name}"')
    write_user_config(hearth_home, text)
    result = hearth(hearth_home, "models")
    assert (
        result.returncode == 2
        and "key 'models.server.key'" in result.stderr
        and "cannot name an API key" in result.stderr
    )


def test_two_key_names_that_would_share_an_environment_variable_are_refused_naming_both(
    hearth_home: Path, model_file: Path
):
    text = config_text(model_file).replace('model = "smol-server"', 'model = "smol-server"\nkey = "work-openai"')
    text += '\n[models.other]\nprovider = "openai-compatible"\nlocation = "cloud"\n'
    text += 'base_url = "https://api.example.com/v1"\nmodel = "gpt"\nkey = "work.openai"\n'
    write_user_config(hearth_home, text)
    result = hearth(hearth_home, "models")
    assert result.returncode == 2
    assert "key 'work.openai' and key 'work-openai' (model 'server')" in result.stderr
    assert "HEARTH_KEY_WORK_OPENAI" in result.stderr


def test_the_settings_dialog_stores_a_pasted_key_stripped_and_refuses_one_with_a_line_break_inside(
    qtbot, configured_home: Path, keychain, monkeypatch: pytest.MonkeyPatch
):
    from PySide6.QtWidgets import QInputDialog

    from app.core.paths import user_paths
    from app.ui import inert
    from app.ui.settings_dialog import SettingsDialog

    text = (configured_home / "config" / "models.toml").read_text()
    write_user_config(configured_home, text.replace('model = "smol-server"', 'model = "smol-server"\nkey = "home"'))
    warnings: list[str] = []
    monkeypatch.setattr(inert, "warn", lambda _parent, title, message: warnings.append(f"{title}: {message}"))
    dialog = SettingsDialog(user_paths())
    qtbot.addWidget(dialog)
    dialog.key_table.selectRow(0)
    for typed in (KEY + "\n", "sk-12\n34"):
        monkeypatch.setattr(QInputDialog, "exec", lambda _self: QInputDialog.DialogCode.Accepted)
        monkeypatch.setattr(QInputDialog, "textValue", lambda _self, typed=typed: typed)
        dialog.set_key()
    assert keychain.secrets == {("Hearth", "home"): KEY}
    assert len(warnings) == 1 and "a space or line break at position 6" in warnings[0]
    assert_nowhere("sk-12\n34", warnings[0])
