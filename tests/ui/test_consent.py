"""Before anything leaves under 'cloud-with-consent', the window asks about each destination by name."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel

from app.core.config.schema import Location
from app.core.privacy.gate import ConsentRequest, Decision
from app.core.providers.base import Message
from app.core.storage.outbound_records import OutboundRecords
from app.ui.consent import ConsentBridge, ConsentDialog
from app.ui.main import create_app
from tests.conftest import config_text, write_user_config
from tests.destinations import RecordingServer
from tests.window_helpers import open_store, open_window, type_and_send, wait_for_answer

REQUEST = ConsentRequest(
    model_id="gpt",
    location=Location.CLOUD,
    destination="gpt-4o at https://api.openai.com/v1",
    address="https://api.openai.com/v1",
    purpose="cloud",
    messages=[Message("system", "You are Hearth."), Message("user", "Mail me at <EMAIL_1>. My secret plan is X.")],
    estimated_cost=0.0042,
    why="claude did not answer (claude: HTTP 500: Internal server error).",
)


def answer_dialogs(answer: Callable[[ConsentDialog], None], stop: threading.Event) -> None:
    """Answer each consent dialog as it opens (a dialog runs its own event loop: a timer inside it does)."""
    if stop.is_set():
        return
    dialog = QApplication.activeModalWidget()
    if isinstance(dialog, ConsentDialog) and dialog.isVisible():
        answer(dialog)
    QTimer.singleShot(20, lambda: answer_dialogs(answer, stop))


@pytest.mark.parametrize("button", ["once", "always", "never", "not_now"])
def test_the_worker_waits_for_the_users_answer(qtbot, button: str):
    create_app()
    bridge = ConsentBridge()
    answers: list[Decision] = []
    shown: list[tuple[str, bool]] = []
    decisions: list[Decision] = []
    bridge.decided.connect(lambda decision, _request: decisions.append(decision))
    stop = threading.Event()

    def click(dialog: ConsentDialog) -> None:
        shown.append((dialog.payload.toPlainText(), bool(answers)))
        getattr(dialog, button).click()

    answer_dialogs(click, stop)
    worker = threading.Thread(target=lambda: answers.append(bridge.ask(REQUEST)))
    worker.start()
    qtbot.waitUntil(lambda: bool(answers), timeout=10_000)
    stop.set()
    worker.join(10)
    payload, answered_before_the_user = shown[0]
    assert "[user]\nMail me at <EMAIL_1>. My secret plan is X." in payload
    assert not answered_before_the_user
    assert answers == decisions == [Decision(button.replace("_", "-"))]


def test_the_dialog_names_the_one_destination_its_address_its_cost_and_what_always_covers(qtbot):
    create_app()
    dialog = ConsentDialog(REQUEST)
    qtbot.addWidget(dialog)
    texts = " ".join(label.text() for label in dialog.findChildren(QLabel))
    assert dialog.windowTitle() == "Send this message to gpt at api.openai.com?"
    assert "claude did not answer" in texts
    assert "gpt: gpt-4o at https://api.openai.com/v1 (cloud, api.openai.com)" in texts
    assert "$0.0042" in texts and "names and addresses are not" in texts
    assert "covers gpt at api.openai.com only" in texts
    assert dialog.always.text() == "Always gpt in this conversation"
    assert "any other destination" in dialog.always.toolTip()
    assert dialog.never.text() == "Never cloud in this conversation"
    assert dialog.not_now.isDefault(), "Enter must not send anything by accident"


def two_cloud_models(home: Path, model_file: Path, first: str, second: str) -> None:
    text = config_text(model_file, privacy="cloud-with-consent", threshold=0.99, server_location="cloud")
    text = text.replace('models = ["server"]', 'models = ["first", "second"]')
    server = text[text.index("[models.server]") :]
    first_model = server.replace("[models.server]", "[models.first]").replace("http://127.0.0.1:9/v1", first)
    second_model = server.replace("[models.server]", "[models.second]").replace("http://127.0.0.1:9/v1", second)
    write_user_config(home, text[: text.index("[models.server]")] + first_model + "\n" + second_model)


def test_after_the_first_destination_fails_the_second_is_asked_about_by_its_own_name(
    qtbot, hearth_home: Path, model_file: Path, servers: list[RecordingServer]
):
    failing, answering = servers
    failing.reset("5xx")
    two_cloud_models(hearth_home, model_file, failing.url, answering.url)
    asked: list[tuple[str, str]] = []
    stop = threading.Event()

    def click(dialog: ConsentDialog) -> None:
        intro = " ".join(label.text() for label in dialog.findChildren(QLabel))
        asked.append((dialog.windowTitle(), intro))
        (dialog.once if len(asked) == 1 else dialog.always).click()

    with open_window(qtbot) as win:
        answer_dialogs(click, stop)
        type_and_send(qtbot, win, "What is the capital of Peru?")
        answered = wait_for_answer(qtbot, win)
        stop.set()
        status = win.statusBar().currentMessage()
        conversation = win.conversations.conversation_id
    assert [title for title, _ in asked] == [
        "Send this message to first at 127.0.0.1?",
        "Send this message to second at 127.0.0.1?",
    ]
    assert "first did not answer" in asked[1][1] and "covers second at 127.0.0.1 only" in asked[1][1]
    assert answered.badge is not None and answered.badge.model == "second"
    assert "now sends to second at 127.0.0.1 without asking" in status
    with open_store(hearth_home) as store:
        assert OutboundRecords(store).approved(conversation) == {("second", answering.url)}
        assert store.conversation(conversation).privacy is None
