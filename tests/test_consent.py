"""Before anything leaves the machine under 'cloud-with-consent', the window asks and shows what would go."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel

from app.core.cascade import EscalationRequest
from app.core.config import Privacy
from app.core.providers.base import Message
from app.ui.consent import ConsentBridge, ConsentDialog, Decision
from app.ui.main import create_app
from tests.conftest import config_text, write_user_config
from tests.window_helpers import open_store, open_window, type_and_send, wait_idle

REQUEST = EscalationRequest(
    tier="cloud",
    model_id="gpt",
    destination="gpt-4o at https://api.openai.com/v1",
    messages=[Message("system", "You are Hearth."), Message("user", "Mail me at <EMAIL_1>. My secret plan is X.")],
    estimated_cost=0.0042,
)


@pytest.mark.parametrize(
    "button, allowed",
    [("once", True), ("always", True), ("never", False), ("not_now", False)],
)
def test_the_worker_waits_for_the_users_answer(qtbot, button: str, allowed: bool):
    create_app()
    bridge = ConsentBridge()
    answers: list[bool] = []
    shown: list[tuple[str, str, bool]] = []
    decisions: list[Decision] = []
    bridge.decided.connect(lambda decision, _request: decisions.append(decision))

    def answer_when_asked() -> None:
        # The dialog runs its own event loop, so it is answered from a timer inside it.
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, ConsentDialog):
            QTimer.singleShot(20, answer_when_asked)
            return
        shown.append(("", dialog.payload.toPlainText(), bool(answers)))
        getattr(dialog, button).click()

    QTimer.singleShot(20, answer_when_asked)
    worker = threading.Thread(target=lambda: answers.append(bridge.ask(REQUEST)))
    worker.start()
    qtbot.waitUntil(lambda: bool(answers), timeout=10_000)
    worker.join(10)
    _, payload, answered_before_the_user = shown[0]
    assert "[user]\nMail me at <EMAIL_1>. My secret plan is X." in payload
    assert not answered_before_the_user
    assert answers == [allowed]
    assert decisions == [Decision(button.replace("_", "-"))]


def test_the_dialog_names_the_destination_the_cost_and_what_is_not_redacted(qtbot):
    create_app()
    dialog = ConsentDialog(REQUEST)
    qtbot.addWidget(dialog)
    texts = " ".join(label.text() for label in dialog.findChildren(QLabel))
    assert "api.openai.com" in texts and "$0.0042" in texts and "names and addresses are not" in texts
    assert dialog.not_now.isDefault(), "Enter must not send anything by accident"


@pytest.mark.parametrize(
    "decision, expected",
    [(Decision.ALWAYS, Privacy.CLOUD_AUTO), (Decision.NEVER, Privacy.SELF_HOSTED), (Decision.ONCE, None)],
)
def test_always_and_never_become_the_conversations_privacy(
    qtbot, hearth_home: Path, model_file: Path, decision: Decision, expected: Privacy | None
):
    text = config_text(model_file, privacy="cloud-with-consent", server_location="cloud", threshold=0.0)
    write_user_config(
        hearth_home, text.replace('base_url = "http://127.0.0.1:9/v1"', 'base_url = "http://127.0.0.1:9/v1"\nkey = "k"')
    )
    with open_window(qtbot) as win:
        type_and_send(qtbot, win, "Name a colour.")
        wait_idle(qtbot, win)
        request = EscalationRequest("cloud", "server", "smol at http://127.0.0.1:9/v1", [Message("user", "x")])
        win.remember_consent(decision, request)
        with open_store(hearth_home) as store:
            own = store.conversation(win.conversation_id).privacy
        assert own == (expected.value if expected else None)
        if expected:
            assert win.sidebar.list.item(0).toolTip().count("this conversation's own setting") == 1
