"""Asking the user before a message leaves the machine, about one destination at a time.

The outgoing gate asks from its worker thread; the question must be shown on
the UI thread. The bridge emits a queued signal and waits for the answer. The
dialog names the one destination asked about (its model, its address, where
it runs) and what it may cost, and shows the exact text that would be sent
(after redaction). What each answer means is decided in the core
(app/core/privacy/gate.py); the dialog only says it.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.privacy.gate import ConsentRequest, Decision
from app.ui import inert


def payload_text(request: ConsentRequest) -> str:
    parts = []
    for message in request.messages:
        images = f"\n[+ {len(message.images)} image(s)]" if message.images else ""
        parts.append(f"[{message.role}]\n{message.content}{images}")
    return "\n\n".join(parts)


NOTICE = (
    "This is exactly what would be sent. E-mail addresses, phone numbers, card numbers, IBANs "
    "and IP addresses are replaced by placeholders; names and addresses are not, so check them."
)


def intro_text(request: ConsentRequest) -> str:
    """Who would receive it, each value from the settings on one short line so none can pose as another."""
    cost = (
        "It is free."
        if not request.estimated_cost
        else f"It may cost up to ${request.estimated_cost:.4f} (estimated from its prices)."
    )
    why = f"{inert.one_line(request.why)} " if request.why else ""
    if request.client is not None:
        why = f"{inert.one_line(request.client)} asked through Hearth's local API. {why}"
    model, host = inert.one_line(request.model_id), inert.one_line(request.host)
    return (
        f"{why}Hearth can send this message to {model}: {inert.one_line(request.destination)} "
        f"({request.location.value}, {host}). {cost}\n\n"
        f"Your answer covers {model} at {host} only: any other destination is asked about on its own."
    )


class ConsentDialog(QDialog):
    def __init__(self, request: ConsentRequest, parent: QWidget | None = None):
        super().__init__(parent)
        self.decision = Decision.NOT_NOW
        self.setWindowTitle(
            f"Send this message to {inert.one_line(request.model_id)} at {inert.one_line(request.host)}?"
        )
        self.setAccessibleName("Consent before sending")
        self.resize(640, 540)
        layout = QVBoxLayout(self)
        # Model, address and destination come from models.toml: plain text, each value on one short line, so
        # no value can pose as another or hide what follows.
        intro = inert.plain_label(intro_text(request), self)
        intro.setWordWrap(True)
        notice = inert.plain_label(NOTICE, self)  # a label of its own: no value above can hide it
        notice.setWordWrap(True)
        self.payload = QPlainTextEdit(payload_text(request), self)
        self.payload.setReadOnly(True)
        self.payload.setAccessibleName("What would be sent")
        buttons = QDialogButtonBox(self)
        self.once = self._button(buttons, "Send once", Decision.ONCE, QDialogButtonBox.ButtonRole.AcceptRole)
        self.always = self._button(
            buttons,
            inert.menu_text(f"Always {inert.one_line(request.model_id, 40)} in this conversation"),
            Decision.ALWAYS,
            QDialogButtonBox.ButtonRole.AcceptRole,
        )
        self.always.setToolTip(
            inert.tooltip(
                f"Later messages of this conversation go to {request.model_id} at {request.host} without asking; "
                "any other destination is still asked about."
            )
        )
        self.never = self._button(
            buttons,
            f"Never {request.location.value} in this conversation",
            Decision.NEVER,
            QDialogButtonBox.ButtonRole.RejectRole,
        )
        self.never.setToolTip(
            inert.tooltip(f"This conversation stops sending anything to {request.location.value} models.")
        )
        self.not_now = self._button(buttons, "Not now", Decision.NOT_NOW, QDialogButtonBox.ButtonRole.RejectRole)
        self.not_now.setDefault(True)  # Enter never sends by accident
        if request.client is not None:  # a program's request belongs to no conversation: only this once
            self.always.hide()
            self.never.hide()
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
    decided = Signal(object, object)  # Decision, ConsentRequest: on the UI thread

    def __init__(self, dialog_parent: QWidget | None = None):
        super().__init__()
        self.dialog_parent = dialog_parent
        self._asked.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def ask(self, request: ConsentRequest) -> Decision:
        """Called on a worker thread; blocks it until the user decides."""
        answer: dict[str, Decision] = {}
        decided = threading.Event()
        self._asked.emit(request, (answer, decided))
        decided.wait()
        return answer.get("decision", Decision.NOT_NOW)

    @Slot(object, object)
    def _show(self, request: ConsentRequest, reply: tuple[dict[str, Decision], threading.Event]) -> None:
        answer, decided = reply
        dialog = ConsentDialog(request, self.dialog_parent)
        try:
            dialog.exec()
            answer["decision"] = dialog.decision
            self.decided.emit(dialog.decision, request)
        finally:
            decided.set()
