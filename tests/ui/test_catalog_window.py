"""The catalog in the window: the first-run card's one-click "Get it" and the Catalog tab, on a real event loop.

A local HTTP server with Range support stands in for the Hugging Face Hub (HF_ENDPOINT
points Hearth at it, as it would at a mirror) and serves the real Gemma 3 270M file; a
refreshed catalog in the cache folder lists it.
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt

from app.core.config.load import load_config_file
from app.ui.model_manager import ModelManager
from app.ui.welcome import Welcome
from tests.conftest import Files
from tests.window_helpers import ANSWER_TIMEOUT_MS, open_window, type_and_send, wait_idle


def test_from_a_fresh_start_one_click_gets_the_recommended_model_and_it_answers_first(qtbot, gemma_hub: Path):
    with open_window(qtbot) as win:
        win.show_welcome()
        card = win.catalog_card
        qtbot.waitUntil(lambda: card.found is not None, timeout=ANSWER_TIMEOUT_MS)
        assert card.found.recommendation.best.model.id == "gemma-3-270m"
        get_it = card.get_buttons[0]
        assert get_it.text() == "Get it"
        qtbot.waitUntil(get_it.isVisible)
        qtbot.mouseClick(get_it, Qt.MouseButton.LeftButton)  # the one click
        qtbot.waitUntil(lambda: win.session.config.tiers[0].models[0] == "gemma-3-270m", timeout=ANSWER_TIMEOUT_MS)
        qtbot.waitUntil(lambda: win.model.ready, timeout=ANSWER_TIMEOUT_MS)
        assert win.session.registry.local().model_id == "gemma-3-270m"
        assert "The ladder is now: local [gemma-3-270m, smollm2-135m]" in card.download.status.text()
        assert "now answers first" in card.download.status.text() and get_it.text() == "Ready"
        assert (gemma_hub / "data" / "models" / "gemma-3-270m-q4_k_m.gguf").is_file()


def test_the_card_pauses_and_resumes_a_download_where_it_stopped(qtbot, gemma_hub: Path):
    with open_window(qtbot, prepare=False) as win:
        win.show_welcome()
        card = win.catalog_card
        qtbot.waitUntil(lambda: card.found is not None, timeout=ANSWER_TIMEOUT_MS)
        download = card.download
        paused_once: list[bool] = []

        def pause_once(progress) -> None:  # as a user would, a moment into the download
            if progress.message.startswith("Downloading") and progress.done and not paused_once:
                paused_once.append(True)
                download.pause_button.click()

        download._relay.progressed.connect(pause_once)
        qtbot.mouseClick(card.get_buttons[0], Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: download.paused, timeout=ANSWER_TIMEOUT_MS)
        assert download.pause_button.text() == "Resume" and "paused" in download.status.text()
        part = gemma_hub / "data" / "models" / "gemma-3-270m-q4_k_m.gguf.part"
        kept = part.stat().st_size
        assert kept > 0
        qtbot.mouseClick(download.pause_button, Qt.MouseButton.LeftButton)  # resume
        qtbot.waitUntil(lambda: "downloaded and checked" in download.status.text(), timeout=30_000)
        assert f"bytes={kept}-" in [r for _, r in Files.requests], "resumed from the partial file, not restarted"
        assert win.session.config.tiers[0].models[0] == "gemma-3-270m"


def test_the_catalog_tab_shows_the_fit_here_and_finds_files_on_the_hub(qtbot, gemma_hub: Path, server: str):
    Files.files["/api/models"] = json.dumps([{"id": "org/gemma", "downloads": 1234}]).encode()
    with open_window(qtbot, prepare=False) as win:
        manager = ModelManager(win.session, win)
        qtbot.addWidget(manager)
        tab = manager.catalog
        qtbot.waitUntil(lambda: tab.found is not None, timeout=ANSWER_TIMEOUT_MS)
        assert "RAM:" in tab.hardware.text() and "Computes on" in tab.hardware.text()
        assert tab.table.item(0, 0).text() == "Gemma 3 270M Instruct"
        assert (
            tab.table.item(0, 3).text().startswith("Runs on the CPU") and "(estimated)" in tab.table.item(0, 2).text()
        )
        assert tab.table.currentRow() == 0  # the recommended model is selected: "Get it" is one click
        tab.check_selected()
        qtbot.waitUntil(lambda: "(estimated)" not in tab.table.item(0, 2).text(), timeout=ANSWER_TIMEOUT_MS)

        qtbot.keyClicks(tab.query, "gemma")
        qtbot.keyClick(tab.query, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: tab.results.rowCount() == 1, timeout=ANSWER_TIMEOUT_MS)
        assert any(path.startswith("/api/models?search=gemma&filter=gguf") for path, _ in Files.requests)
        tab.results.selectRow(0)
        qtbot.waitUntil(lambda: tab.files.rowCount() == 1, timeout=ANSWER_TIMEOUT_MS)
        tab.files.selectRow(0)
        tab.check_hub_file()
        qtbot.waitUntil(lambda: tab.files.item(0, 2).text().startswith("Runs on the CPU"), timeout=ANSWER_TIMEOUT_MS)
        tab.download_hub_file()
        assert manager.tabs.currentIndex() == 0
        assert (manager.repo.text(), manager.filename.text()) == ("org/gemma", "gemma-3-270m-q4_k_m.gguf")

        assert not tab.refresh_box.isChecked()  # off until the user turns it on
        tab.refresh_box.click()
        assert load_config_file(gemma_hub / "config" / "models.toml").catalog.refresh and manager.config_changed


def test_a_download_goes_on_in_the_status_bar_when_the_welcome_goes(qtbot, gemma_hub: Path):
    with open_window(qtbot) as win:
        win.show_welcome()
        card = win.catalog_card
        qtbot.waitUntil(lambda: card.found is not None, timeout=ANSWER_TIMEOUT_MS)
        download = card.download
        download.get(card.found.recommendation.best, card.found.hardware)
        download.pause()
        qtbot.waitUntil(lambda: download.paused, timeout=ANSWER_TIMEOUT_MS)
        type_and_send(qtbot, win, "Hello!")  # the first message: the welcome goes
        qtbot.waitUntil(lambda: not win.chat.viewport().findChildren(Welcome))
        assert download.parent() is not None and win.statusBar().isAncestorOf(download)
        qtbot.mouseClick(download.pause_button, Qt.MouseButton.LeftButton)  # resume, from the status bar
        qtbot.waitUntil(lambda: win.session.config.tiers[0].models[0] == "gemma-3-270m", timeout=ANSWER_TIMEOUT_MS)
        wait_idle(qtbot, win)
