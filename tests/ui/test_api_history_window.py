"""Keeping programs' conversations, from the window: the switch in Tools → Local API, and the sidebar's "API" mark."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from app.core.config.load import load_config_file
from tests.conftest import config_text, free_port, write_user_config
from tests.window_helpers import open_window

pytestmark = pytest.mark.server

CLIENT = "notes-app/2.1"
QUESTION = "Which <b>planet</b> is largest?"


def test_turning_keeping_on_saves_it_and_a_programs_conversation_appears_in_the_sidebar_marked_api(
    qtbot, hearth_home: Path, model_file: Path, keychain
):
    port = free_port()
    config = write_user_config(hearth_home, f"{config_text(model_file)}\n[server]\nport = {port}\n")
    with open_window(qtbot) as win:
        panel = win.open_api()
        assert not panel.keep.isChecked(), "off until the user turns it on"
        panel.serving.click()
        assert "are not kept" in panel.note.text()
        panel.keep.click()
        assert load_config_file(config).server.keep_history is True
        assert "are kept in the history" in panel.note.text()
        answer = httpx.post(
            f"{panel.address.text()}/chat/completions",
            json={"model": "hearth", "messages": [{"role": "user", "content": QUESTION}], "max_tokens": 8},
            headers={"Authorization": f"Bearer {win.api.key.value}", "User-Agent": CLIENT},
            timeout=120,
        )
        assert answer.status_code == 200
        listed = win.sidebar.list
        qtbot.waitUntil(lambda: listed.count() == 1, timeout=10_000)
        item = listed.item(0)
        assert item.text() == f"API · {QUESTION}", "the title as the program sent it, shown as plain text"
        assert f"Asked through the local API by {CLIENT}" in item.toolTip()
        panel.serving.click()
