"""Asking the user before a message leaves the machine.

The cascade asks from its worker thread; the question must be shown on the UI
thread. The bridge emits a queued signal and waits for the answer.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QMessageBox, QWidget

from app.core.cascade import EscalationRequest


class ConsentBridge(QObject):
    _asked = Signal(object, object)

    def __init__(self, dialog_parent: QWidget | None = None):
        super().__init__()
        self.dialog_parent = dialog_parent
        self._asked.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def ask(self, request: EscalationRequest) -> bool:
        """Called on a worker thread; blocks it until the user decides."""
        answer: dict[str, bool] = {}
        decided = threading.Event()
        self._asked.emit(request, (answer, decided))
        decided.wait()
        return answer.get("allowed", False)

    @Slot(object, object)
    def _show(self, request: EscalationRequest, reply: tuple[dict[str, bool], threading.Event]) -> None:
        answer, decided = reply
        payload = "\n\n".join(f"[{m.role}] {m.content}" for m in request.messages)
        box = QMessageBox(self.dialog_parent)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Send this message off your computer?")
        cost = "" if request.estimated_cost is None else f" It may cost up to ${request.estimated_cost:.4f}."
        box.setText(
            f"The local answer was unsure. Send the conversation to {request.tier} ({request.destination})?{cost}\n"
            "Details show exactly what would be sent, with personal data replaced by placeholders."
        )
        box.setDetailedText(payload)
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        answer["allowed"] = box.exec() == QMessageBox.StandardButton.Yes
        decided.set()
