"""What an installed Hearth promises beyond chatting: an update check that stays off until it is
turned on and says what it sends, and data that outlives an uninstall unless the user erases it."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app import __version__
from app.cli.main import main
from app.core.config import keys
from app.core.config.load import default_config_file
from app.core.config.schema import Updates
from app.core.errors import HearthError
from app.core.paths import UPDATE_CHECK, user_paths
from app.core.system import updates
from app.ui.about import AboutDialog
from app.ui.main import create_app
from app.ui.settings_dialog import SettingsDialog
from tests.conftest import Files, config_text, write_user_config
from tests.fakes import MemoryKeychain
from tests.window_helpers import open_window


def publish_release(server: str, tag: str) -> str:
    Files.files["/repos/hearth/releases/latest"] = json.dumps(
        {"tag_name": tag, "html_url": f"https://example.org/hearth/{tag}", "name": tag, "assets": []}
    ).encode()
    return f"{server}/repos/hearth/releases/latest"


def test_the_update_check_is_off_in_a_fresh_install():
    text = default_config_file().read_text(encoding="utf-8")
    assert "[updates]\ncheck = false" in text
    assert Updates().check is False


def test_the_update_check_sends_only_what_it_says_it_sends(server: str):
    url = publish_release(server, "v0.2.0")

    status = updates.check(url, "0.1.0")

    assert status.newer_available and status.latest == "0.2.0"
    assert status.describe() == "Hearth 0.2.0 is available (you have 0.1.0)."
    assert len(Files.requests) == 1
    sent = {name.lower(): value for name, value in Files.headers[0].items()}
    promised = {name.lower(): value for name, value in updates.request_headers("0.1.0").items()}
    # Beyond the promised headers only what HTTP itself needs: no cookie, no identifier.
    assert set(sent) - set(promised) <= {"host", "accept-encoding", "connection"}
    assert all(sent[name] == value for name, value in promised.items())
    text = updates.disclosure(url, "0.1.0")
    assert "User-Agent: Hearth/0.1.0" in text and url in text and "127.0.0.1" in text


def test_the_same_or_an_older_release_is_not_announced(server: str):
    assert not updates.check(publish_release(server, "v0.1.0"), "0.1.0").newer_available
    assert not updates.check(publish_release(server, "0.0.9"), "0.1.0").newer_available
    assert updates.version_key("v0.10.0") > updates.version_key("0.9.3")


@pytest.mark.parametrize(
    ("body", "expected"),
    [(None, "answered 404"), (b"<html>rate limited</html>", "did not answer with a release")],
)
def test_a_failed_update_check_says_what_happened(server: str, body: bytes | None, expected: str):
    url = f"{server}/repos/hearth/releases/latest"
    if body is not None:
        Files.files["/repos/hearth/releases/latest"] = body
    with pytest.raises(HearthError, match=expected):
        updates.check(url, "0.1.0")


def test_a_release_tag_of_thousands_of_digits_is_no_release_and_a_damaged_record_is_asked_again(
    server: str, tmp_path: Path
):
    with pytest.raises(HearthError, match="did not answer with a release"):
        updates.check(publish_release(server, "v" + "9" * 5000), "0.1.0")
    (tmp_path / UPDATE_CHECK).write_bytes(b'{"latest": "\xff\xfe"}')
    assert updates.last_check(tmp_path, "0.1.0") is None


def test_an_unreachable_server_is_named_in_the_error():
    with pytest.raises(HearthError, match="Could not reach 127.0.0.1"):
        updates.check("http://127.0.0.1:9/latest", "0.1.0")


def test_the_check_runs_at_most_once_a_day(tmp_path: Path):
    status = updates.UpdateStatus("0.1.0", "0.2.0", "https://example.org/r", datetime.now(UTC) - timedelta(hours=2))
    updates.remember(tmp_path, status)
    previous = updates.last_check(tmp_path, "0.1.0")
    assert previous is not None and previous.latest == "0.2.0"
    assert not updates.due(previous, datetime.now(UTC))
    assert updates.due(previous, datetime.now(UTC) + timedelta(days=1))
    assert updates.due(None, datetime.now(UTC))


def test_only_https_addresses_are_accepted_for_the_update_check(hearth_home: Path):
    from app.core.config.load import load_config
    from app.core.errors import ConfigError

    write_user_config(hearth_home, config_text(Path("m.gguf")) + '\n[updates]\ncheck = true\nurl = "http://x.org/r"\n')
    with pytest.raises(ConfigError, match="updates.url"):
        load_config(user_paths())


def test_turning_the_check_on_in_settings_writes_it_to_models_toml(qtbot, hearth_home: Path, model_file: Path):
    write_user_config(hearth_home, config_text(model_file))
    create_app()
    dialog = SettingsDialog(user_paths())
    qtbot.addWidget(dialog)
    assert not dialog.check_updates.isChecked()
    dialog.check_updates.setChecked(True)
    dialog.save()
    text = (hearth_home / "config" / "models.toml").read_text(encoding="utf-8")
    assert "[updates]" in text and "check = true" in text


def test_about_checks_only_when_asked_and_links_a_newer_release(qtbot, server: str, tmp_path: Path):
    url = publish_release(server, "v9.0.0")
    create_app()
    dialog = AboutDialog(Updates.model_construct(check=False, url=url), tmp_path)
    qtbot.addWidget(dialog)
    assert Files.requests == []
    assert "Automatic check: off" in dialog.update_state.text() and "Not checked yet" in dialog.update_state.text()

    dialog.check_now.click()
    qtbot.waitUntil(lambda: "available" in dialog.update_state.text(), timeout=10_000)

    assert len(Files.requests) == 1
    assert f"Hearth 9.0.0 is available (you have {__version__})" in dialog.update_state.text()
    assert 'href="https://example.org/hearth/v9.0.0"' in dialog.update_state.text()
    remembered = updates.last_check(tmp_path, __version__)
    assert remembered is not None and remembered.latest == "9.0.0"


def test_erasing_data_removes_conversations_settings_and_keys(
    hearth_home: Path, keychain: MemoryKeychain, capsys: pytest.CaptureFixture[str]
):
    paths = user_paths()
    paths.ensure()
    paths.database.write_bytes(b"conversations")
    text = config_text(Path("m.gguf")).replace('model = "smol-server"', 'model = "smol-server"\nkey = "home"')
    write_user_config(hearth_home, text)
    keys.store_key("home", "sk-erase-me")
    keys.store_key("unrelated", "kept")
    keychain.secrets[("Other app", "home")] = "not Hearth's"

    assert main(["erase-data", "--yes"]) == 0

    assert not paths.data.exists() and not paths.config.exists()
    assert keychain.secrets == {("Hearth", "unrelated"): "kept", ("Other app", "home"): "not Hearth's"}
    out = capsys.readouterr().out
    assert "Erased API key 'home'" in out and str(paths.data) in out


def test_erasing_data_without_yes_and_without_a_terminal_erases_nothing(hearth_home: Path, monkeypatch):
    paths = user_paths()
    paths.ensure()
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["erase-data"]) == 1
    assert paths.data.exists()


def test_erasing_data_on_a_computer_without_a_keychain_still_erases_the_folders(hearth_home: Path, no_keychain):
    paths = user_paths()
    paths.ensure()
    text = config_text(Path("m.gguf")).replace('model = "smol-server"', 'model = "smol-server"\nkey = "home"')
    write_user_config(hearth_home, text)

    assert main(["erase-data", "--yes"]) == 0

    assert not paths.data.exists() and not paths.config.exists()


def test_with_the_check_on_the_window_announces_a_release_found_today_without_asking_again(
    qtbot, configured_home: Path
):
    config = configured_home / "config" / "models.toml"
    config.write_text(config.read_text(encoding="utf-8") + "\n[updates]\ncheck = true\n", encoding="utf-8")
    data = configured_home / "data"
    data.mkdir(parents=True, exist_ok=True)
    found = updates.UpdateStatus(__version__, "9.0.0", "https://example.org/r", datetime.now(UTC) - timedelta(hours=1))
    updates.remember(data, found)

    with open_window(qtbot, prepare=False) as win:
        win.start_upkeep()
        assert win.statusBar().currentMessage().startswith(f"Hearth 9.0.0 is available (you have {__version__}).")
        assert win._update_check is None  # checked an hour ago: no request today
