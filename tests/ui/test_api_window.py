"""The window's switch for the local API: turned on by the user, asking consent in the window, naming the program."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import openai
import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel, QLineEdit

from app.core.storage.outbound_records import OutboundRecords
from app.ui.consent import ConsentDialog
from tests.conftest import config_text, free_port, write_user_config
from tests.ui.test_consent import answer_dialogs
from tests.window_helpers import open_store, open_window

pytestmark = pytest.mark.server

CLIENT = "notes-app/2.1"


def test_the_switch_serves_the_window_session_and_consent_is_asked_in_the_window_naming_the_program(
    qtbot, hearth_home: Path, model_file: Path, llama_server: str, keychain
):
    port = free_port()
    text = config_text(
        model_file, privacy="cloud-with-consent", threshold=1.0, server_url=llama_server, server_location="cloud"
    )
    write_user_config(hearth_home, f"{text}\n[server]\nport = {port}\n")
    asked: list[tuple[str, str, bool]] = []
    stop = threading.Event()
    results: list[object] = []

    with open_window(qtbot) as win:
        panel = win.open_api()
        assert panel.requests.text() == "—" and "Off" in panel.note.text()
        panel.serving.click()
        assert win.api.running and panel.address.text() == f"http://127.0.0.1:{port}/v1"
        assert panel.key.echoMode() == QLineEdit.EchoMode.Password
        panel.copy_key.click()
        key = QGuiApplication.clipboard().text()
        assert key.startswith("hearth-") and key == win.api.key.value

        def click(dialog: ConsentDialog) -> None:
            intro = " ".join(label.text() for label in dialog.findChildren(QLabel))
            asked.append((intro, panel.requests.text(), dialog.always.isVisible()))
            dialog.once.click()

        def ask() -> None:
            client = openai.OpenAI(
                base_url=panel.address.text(), api_key=key, max_retries=0, default_headers={"User-Agent": CLIENT}
            )
            try:
                results.append(
                    client.chat.completions.create(model="hearth", messages=[{"role": "user", "content": "Hi"}])
                )
            except openai.OpenAIError as exc:
                results.append(exc)

        qtbot.waitUntil(lambda: panel.requests.text() == "0")
        answer_dialogs(click, stop)
        caller = threading.Thread(target=ask)
        caller.start()
        qtbot.waitUntil(lambda: bool(results), timeout=120_000)
        stop.set()
        caller.join(10)
        (completion,) = results
        assert not isinstance(completion, Exception), completion
        assert completion.hearth["escalated"] is True and completion.hearth["tier"] == "cloud"
        ((intro, busy, always_offered),) = asked
        assert f"{CLIENT} asked through Hearth's local API" in intro and "server" in intro
        assert busy == "1", "the live count shows the request waiting for the user's answer"
        assert not always_offered, "a program's request has no conversation to remember an answer for"

        old = win.api.key.value
        win.api.rotate()
        assert panel.key.text() == win.api.key.value != old
        assert (
            httpx.get(f"{panel.address.text()}/models", headers={"Authorization": f"Bearer {old}"}).status_code == 401
        )
        fresh = {"Authorization": f"Bearer {win.api.key.value}"}
        assert httpx.get(f"{panel.address.text()}/models", headers=fresh).status_code == 200

        panel.serving.click()
        assert not win.api.running
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/v1/models")
    with open_store(hearth_home) as store:
        (row,) = OutboundRecords(store).audit()
        assert row.via == f"API ({CLIENT})" and row.basis == "approved for this message"
        assert store.conversations() == []


def test_a_port_in_use_is_said_and_the_switch_stays_off(qtbot, hearth_home: Path, model_file: Path, keychain):
    import socket

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    write_user_config(hearth_home, f"{config_text(model_file)}\n[server]\nport = {port}\n")
    try:
        with open_window(qtbot, prepare=False) as win:
            panel = win.open_api()
            panel.serving.click()
            assert not panel.serving.isChecked() and not win.api.running
            assert f"127.0.0.1:{port}" in panel.note.text() and "--port" in panel.note.text()
    finally:
        taken.close()
