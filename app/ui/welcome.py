"""The first start: the privacy model in three lines, and the default model arriving with a progress bar.

It is shown in the empty conversation, not over the window: the user can write
while the model arrives. When the model is ready the progress goes; the
welcome itself goes with the first message.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QProgressBar, QVBoxLayout, QWidget

from app.core.models.fetch import FetchProgress
from app.core.paths import WELCOMED
from app.ui.inert import plain_label
from app.ui.progress import show_progress

PRIVACY_LINES = (
    "1. Every message is answered first by a model running on this computer; nothing is sent anywhere to do that.",
    "2. Each answer shows how sure that model was. Only an unsure answer may go further, and only where your "
    "privacy setting allows it: by default, nowhere.",
    "3. Before anything would leave this computer you see exactly what would be sent, and where, and you decide.",
)
CARD_WIDTH = 620


def first_run(data_dir: Path) -> bool:
    return not (data_dir / WELCOMED).exists()


def mark_welcomed(data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / WELCOMED).touch()


class Welcome(QWidget):
    def __init__(self, model_id: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("welcome")
        self.setAccessibleName("Welcome")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)  # covers the view behind it
        card = QFrame(self)
        card.setObjectName("welcomeCard")
        card.setFixedWidth(CARD_WIDTH)
        title = plain_label("Welcome to Hearth", card)
        title.setObjectName("welcomeTitle")
        lines = plain_label("\n\n".join(PRIVACY_LINES), card)
        lines.setWordWrap(True)
        self.status = plain_label(f"Getting the default model ({model_id}) ready…", card)
        self.status.setWordWrap(True)
        self.progress = QProgressBar(card)
        self.progress.setRange(0, 0)
        self.progress.setAccessibleName("Default model progress")
        self.hint = plain_label(
            "You can write your first message below while the model arrives; it is answered as soon as the model "
            "is ready.",
            card,
        )
        self.hint.setObjectName("hint")
        self.hint.setWordWrap(True)
        column = QVBoxLayout(card)
        column.setContentsMargins(28, 24, 28, 24)
        column.setSpacing(12)
        column.addWidget(title)
        column.addWidget(lines)
        column.addSpacing(8)
        for widget in (self.status, self.progress, self.hint):
            column.addWidget(widget)
        centred = QHBoxLayout()  # not an alignment: an aligned widget gets no height for its width
        centred.addStretch(1)
        centred.addWidget(card)
        centred.addStretch(1)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addLayout(centred)
        outer.addStretch(2)

    def show_progress(self, progress: FetchProgress) -> None:
        show_progress(self.status, self.progress, progress)

    def model_changed(self, ready: bool, detail: str) -> None:
        """The model is ready (``detail``: its id), and no progress is left on show; or it failed (why)."""
        self.progress.hide()
        if ready:
            self.status.hide()
            self.hint.setText(
                f"The default model ({detail}) is ready on this computer; no account or key is needed. "
                "Write your first message below."
            )
        else:
            self.status.setText(f"The default model could not be prepared: {detail}")
            self.status.show()
