"""Before anything leaves the machine under 'cloud-with-consent', the window asks and shows what would go."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from app.core.cascade import EscalationRequest
from app.core.providers.base import Message
from app.ui.consent import ConsentBridge
from app.ui.main import create_app

REQUEST = EscalationRequest(
    tier="cloud",
    model_id="gpt",
    destination="gpt-4o at https://api.openai.com/v1",
    messages=[Message("system", "You are Hearth."), Message("user", "My secret plan is X.")],
)


@pytest.mark.parametrize(
    "button, allowed", [(QMessageBox.StandardButton.Yes, True), (QMessageBox.StandardButton.No, False)]
)
def test_the_worker_waits_for_the_users_answer(qtbot, button, allowed):
    create_app()
    bridge = ConsentBridge()
    answers: list[bool] = []
    shown: list[tuple[str, str, bool]] = []

    def answer_when_asked() -> None:
        # The box runs its own event loop, so it is answered from a timer inside it.
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer_when_asked)
            return
        shown.append((box.text(), box.detailedText(), bool(answers)))
        box.button(button).click()

    QTimer.singleShot(20, answer_when_asked)
    worker = threading.Thread(target=lambda: answers.append(bridge.ask(REQUEST)))
    worker.start()
    qtbot.waitUntil(lambda: bool(answers), timeout=10_000)
    worker.join(10)
    text, details, answered_before_the_user = shown[0]
    assert "cloud" in text and "api.openai.com" in text
    assert "[user] My secret plan is X." in details
    assert not answered_before_the_user
    assert answers == [allowed]
