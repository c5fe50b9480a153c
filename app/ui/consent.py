"""Asking the user before a message leaves the machine.

The cascade asks from its worker thread; the question must be shown on the
UI thread. The bridge emits a queued signal and waits for the answer. The
dialog shows the exact text that would be sent (after redaction), where to,
and what it may cost; "always" and "never" are remembered for the
conversation as its privacy policy.
"""

from __future__ import annotations

import threading
from enum import StrEnum

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.cascade import EscalationRequest
from app.ui import inert


class Decision(StrEnum):
    ONCE = "once"
    ALWAYS = "always"  # for this conversation
    NEVER = "never"  # for this conversation
    NOT_NOW = "not-now"


def payload_text(request: EscalationRequest) -> str:
    parts = []
    for message in request.messages:
        images = f"\n[+ {len(message.images)} image(s)]" if message.images else ""
        parts.append(f"[{message.role}]\n{message.content}{images}")
    return "\n\n".join(parts)


class ConsentDialog(QDialog):
    def __init__(self, request: EscalationRequest, parent: QWidget | None = None):
        super().__init__(parent)
        self.decision = Decision.NOT_NOW
        self.setWindowTitle("Send this message off your computer?")
        self.setAccessibleName("Consent before sending")
        self.resize(640, 520)
        layout = QVBoxLayout(self)
        cost = (
            "It is free."
            if not request.estimated_cost
            else f"It may cost up to ${request.estimated_cost:.4f} (estimated from its prices)."
        )
        # Tier, model and destination come from models.toml: escaped, each on one short line, and the
        # notice in a label of its own, so no value can pose as another, or hide what follows.
        intro = inert.rich_label(
            inert.markup(
                "The local answer was unsure. Hearth can ask <b>{tier}</b> (<b>{model}</b> at <b>{destination}</b>). "
                "{cost}",
                tier=inert.one_line(request.tier),
                model=inert.one_line(request.model_id),
                destination=inert.one_line(request.destination),
                cost=cost,
            ),
            self,
        )
        intro.setWordWrap(True)
        notice = inert.plain_label(
            "This is exactly what would be sent. E-mail addresses, phone numbers, card numbers, IBANs "
            "and IP addresses are replaced by placeholders; names and addresses are not, so check them.",
            self,
        )
        notice.setWordWrap(True)
        self.payload = QPlainTextEdit(payload_text(request), self)
        self.payload.setReadOnly(True)
        self.payload.setAccessibleName("What would be sent")
        buttons = QDialogButtonBox(self)
        self.once = self._button(buttons, "Send once", Decision.ONCE, QDialogButtonBox.ButtonRole.AcceptRole)
        self.always = self._button(
            buttons, "Always for this conversation", Decision.ALWAYS, QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.never = self._button(
            buttons, "Never for this conversation", Decision.NEVER, QDialogButtonBox.ButtonRole.RejectRole
        )
        self.not_now = self._button(buttons, "Not now", Decision.NOT_NOW, QDialogButtonBox.ButtonRole.RejectRole)
        self.not_now.setDefault(True)  # Enter never sends by accident
        layout.addWidget(intro)
        layout.addWidget(notice)
        layout.addWidget(self.payload, 1)
        layout.addWidget(buttons)
        self.not_now.setFocus()

    def _button(
        self, box: QDialogButtonBox, text: str, decision: Decision, role: QDialogButtonBox.ButtonRole
    ) -> QPushButton:
        button = box.addButton(text, role)
        button.setAccessibleName(text)
        button.clicked.connect(lambda: self._decide(decision))
        return button

    def _decide(self, decision: Decision) -> None:
        self.decision = decision
        self.done(QDialog.DialogCode.Accepted if decision in (Decision.ONCE, Decision.ALWAYS) else 0)


class ConsentBridge(QObject):
    _asked = Signal(object, object)
    decided = Signal(object, object)  # Decision, EscalationRequest: on the UI thread

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
        dialog = ConsentDialog(request, self.dialog_parent)
        try:
            dialog.exec()
            answer["allowed"] = dialog.decision in (Decision.ONCE, Decision.ALWAYS)
            self.decided.emit(dialog.decision, request)
        finally:
            decided.set()
