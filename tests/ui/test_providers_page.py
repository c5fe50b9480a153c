"""Tools → Providers driven as a user does: a real event loop, real files, llama.cpp's real server."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.core.config import key_list
from app.core.config.load import load_config
from app.core.config.presets import preset
from app.core.config.schema import Privacy
from app.core.paths import user_paths
from app.core.services import discovery, operations
from app.core.services.connection import Connection
from app.ui.providers_dialog import ProvidersDialog
from tests.conftest import write_user_config
from tests.window_helpers import open_window

VERIFY_TIMEOUT_MS = 60_000


def pick(dialog: ProvidersDialog, qtbot, name: str) -> None:
    """Click the provider's row, as a user would."""
    services = dialog.providers.services
    row = next(i for i in range(services.count()) if services.item(i).text().startswith(name))
    rect = services.visualItemRect(services.item(row))
    qtbot.mouseClick(services.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def paste(qtbot, widget, text: str) -> None:
    QApplication.clipboard().setText(text)
    widget.setFocus()
    qtbot.keySequence(widget, "Ctrl+V")


def open_dialog(qtbot, win, tab: int = ProvidersDialog.PROVIDERS_TAB) -> ProvidersDialog:
    dialog = ProvidersDialog(win.session, win, tab)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_adding_openai_from_a_fresh_install_takes_five_actions_and_only_the_key_is_typed(
    qtbot, hearth_home: Path, keychain
):
    actions = 0
    with open_window(qtbot, prepare=False) as win:
        tools = next(a.menu() for a in win.menuBar().actions() if a.text() == "&Tools")
        entry = next(a for a in tools.actions() if a.text() == "&Providers…")
        actions += 2  # open Tools, choose Providers…
        assert entry.isEnabled()
        dialog = open_dialog(qtbot, win)
        pick(dialog, qtbot, "OpenAI")
        actions += 1
        page = dialog.providers
        assert page.address.text() == "https://api.openai.com/v1" and page.model.currentText() == "gpt-4.1-mini"
        assert page.price.text().startswith("$0.4 in / $1.6 out per million tokens (Hearth's price table of")
        paste(qtbot, page.key, "sk-proj-a-fresh-key-0001")
        actions += 1
        qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
        actions += 1
        assert "Added openai-gpt-4-1-mini to the tier 'cloud'" in page.result.text()
        assert page.key.text() == ""  # the key left the field for the keychain
        dialog.close()
    assert actions <= 5
    config = load_config(user_paths())
    added = config.models["openai-gpt-4-1-mini"]
    assert (added.price_in, added.price_out, added.key) == (0.4, 1.6, "openai")
    assert [t.name for t in config.tiers] == ["local", "cloud"]
    assert key_list.api_keys("openai") == ["sk-proj-a-fresh-key-0001"]


def test_verify_and_the_model_list_of_a_server_of_yours(qtbot, configured_home: Path, llama_server: str):
    write_user_config(configured_home, config_text_with(configured_home, privacy="local-and-self-hosted"))
    with open_window(qtbot, prepare=False) as win:
        dialog = open_dialog(qtbot, win)
        pick(dialog, qtbot, "Any OpenAI-compatible server")
        page = dialog.providers
        page.name.setText("home")
        page.address.setText(llama_server)
        assert not page.policy.isVisible()
        qtbot.mouseClick(page.verify_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: page.result.text().startswith("Verified"), timeout=VERIFY_TIMEOUT_MS)
        assert "answered with smol-server" in page.result.text()
        assert [page.model.itemText(i) for i in range(page.model.count())] == ["smol-server"]
        assert page.price.text() == "free"
        qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
        assert "home-smol-server" in page.result.text() and dialog.config_changed
        dialog.close()
    assert load_config(user_paths()).tiers[1].models == ["server", "home-smol-server"]


def config_text_with(home: Path, **settings: str) -> str:
    text = (home / "config" / "models.toml").read_text()
    for key, value in settings.items():
        text = text.replace('privacy = "local-only"', f'{key} = "{value}"')
    return text


def test_a_policy_that_forbids_the_service_says_so_and_one_click_allows_it(qtbot, configured_home: Path):
    with open_window(qtbot, prepare=False) as win:
        dialog = open_dialog(qtbot, win)
        pick(dialog, qtbot, "Anthropic")
        page = dialog.providers
        assert page.policy.isVisible() and "'Local only' does not allow cloud models" in page.policy.text()
        qtbot.mouseClick(page.verify_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "Nothing was sent" in page.result.text() or "no API key" in page.result.text())
        qtbot.mouseClick(page.allow, Qt.MouseButton.LeftButton)
        assert not page.policy.isVisible()
        dialog.close()
    assert load_config(user_paths()).settings.privacy is Privacy.CLOUD_WITH_CONSENT


def test_without_a_keychain_the_page_says_so_and_names_the_variable(qtbot, configured_home: Path, no_keychain):
    with open_window(qtbot, prepare=False) as win:
        dialog = open_dialog(qtbot, win)
        pick(dialog, qtbot, "Mistral")
        page = dialog.providers
        assert "Keys cannot be stored here" in page.key_state.text()
        assert "HEARTH_KEY_MISTRAL" in page.key_state.text() and not page.save_key_button.isEnabled()
        paste(qtbot, page.key, "a-mistral-key-123456")
        qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
        assert "Set HEARTH_KEY_MISTRAL instead" in page.result.text()
        assert "a-mistral-key-123456" not in page.result.text()
        dialog.close()


def test_find_servers_on_this_computer_fills_in_a_running_server(qtbot, configured_home, llama_server, monkeypatch):
    port = int(llama_server.rsplit(":", 1)[1].split("/")[0])
    monkeypatch.setattr(discovery, "usual_ports", lambda: [port])
    with open_window(qtbot, prepare=False) as win:
        dialog = open_dialog(qtbot, win)
        page = dialog.providers
        qtbot.mouseClick(page.find, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: page.result.text().startswith("Found"), timeout=VERIFY_TIMEOUT_MS)
        assert page.address.text() == llama_server and page.model.currentText() == "smol-server"
        dialog.close()


def test_the_tiers_view_shows_each_rows_location_price_and_policy_effect_and_reorders(qtbot, configured_home: Path):
    paths = user_paths()
    write_user_config(configured_home, config_text_with(configured_home, privacy="cloud-with-consent"))
    operations.add_model(paths, Connection.of(preset("gemini")), "gemini-2.5-flash")
    with open_window(qtbot, prepare=False) as win:
        dialog = open_dialog(qtbot, win, ProvidersDialog.TIERS_TAB)
        tiers = dialog.tiers
        rows = {
            tiers.tree.topLevelItem(t).child(c).text(0): [
                tiers.tree.topLevelItem(t).child(c).text(i) for i in (1, 2, 4)
            ]
            for t in range(tiers.tree.topLevelItemCount())
            for c in range(tiers.tree.topLevelItem(t).childCount())
        }
        assert rows["smollm2-135m"] == ["local", "free", "allowed"]
        assert rows["server"] == ["self-hosted", "free", "allowed"]
        assert rows["gemini-gemini-2-5-flash"][2] == "asks first"
        assert rows["gemini-gemini-2-5-flash"][1] == "$0.3 in / $2.5 out per million tokens"
        order = [tiers.tree.topLevelItem(i).text(0) for i in range(tiers.tree.topLevelItemCount())]
        assert order == ["Tier: local", "Tier: self-hosted", "Tier: cloud"]
        tiers.tree.setCurrentItem(tiers.tree.topLevelItem(2))
        tiers.move(-1)  # the cloud tier above the self-hosted one
        assert [t.name for t in load_config(paths).tiers] == ["local", "cloud", "self-hosted"]
        tiers.tree.setCurrentItem(tiers.tree.topLevelItem(1))
        tiers.move(-1)  # a cloud tier first: refused, the file unchanged
        assert "first tier must be a local model" in tiers.problem.text()
        assert [t.name for t in load_config(paths).tiers] == ["local", "cloud", "self-hosted"]
        dialog.close()


def test_a_model_in_no_tier_is_a_warning_and_a_tier_dropped_into_a_tier_is_undone(qtbot, configured_home: Path):
    text = (configured_home / "config" / "models.toml").read_text()
    write_user_config(
        configured_home,
        text.replace('name = "self-hosted"\nmodels = ["server"]', 'name = "self-hosted"\nmodels = ["smollm2-135m"]'),
    )
    with open_window(qtbot, prepare=False) as win:
        dialog = open_dialog(qtbot, win, ProvidersDialog.TIERS_TAB)
        tiers = dialog.tiers
        assert tiers.warnings.isVisible() and "'server' is in no tier, so Hearth never asks it" in tiers.warnings.text()
        tree = tiers.tree
        second = tree.takeTopLevelItem(1)
        tree.topLevelItem(0).addChild(second)  # what a drop of a tier onto another tier leaves
        tiers.save_order()
        assert "that move was undone" in tiers.problem.text() and tree.topLevelItemCount() == 3
        dialog.close()


def test_the_advanced_tab_numbers_lines_and_an_error_goes_to_its_line(qtbot, configured_home: Path):
    with open_window(qtbot, prepare=False) as win:
        dialog = open_dialog(qtbot, win, ProvidersDialog.ADVANCED_TAB)
        editor = dialog.editor
        assert editor.gutter.width() >= editor.fontMetrics().horizontalAdvance("999")
        lines = editor.toPlainText().splitlines()
        lines[3] = "threshold = 7"
        editor.setPlainText("\n".join(lines))
        dialog.save_text()
        assert "line 4" in dialog.text_result.text() and editor.textCursor().blockNumber() == 3
        dialog.close()
