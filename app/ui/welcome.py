"""The first start: the privacy model in three lines, and the default model arriving with a progress bar."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QDialog, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from app.core.fetch import FetchProgress
from app.ui.inert import plain_label
from app.ui.progress import show_progress

PRIVACY_LINES = (
    "1. Every message is answered first by a model running on this computer; nothing is sent anywhere to do that.",
    "2. Each answer shows how sure that model was. Only an unsure answer may go further, and only where your "
    "privacy setting allows it: by default, nowhere.",
    "3. Before anything would leave this computer you see exactly what would be sent, and where, and you decide.",
)


def first_run(data_dir: Path) -> bool:
    return not (data_dir / "welcomed").exists()


def mark_welcomed(data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "welcomed").touch()


class Welcome(QDialog):
    def __init__(self, model_id: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Welcome to Hearth")
        self.setAccessibleName("Welcome")
        self.setFixedWidth(600)  # wrapped labels need a known width to know their height
        title = plain_label("Welcome to Hearth", self)
        title.setObjectName("welcomeTitle")
        lines = plain_label("\n\n".join(PRIVACY_LINES), self)
        lines.setWordWrap(True)
        self.status = plain_label(f"Getting the default model ({model_id}) ready…", self)
        self.status.setWordWrap(True)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 0)
        self.progress.setAccessibleName("Default model progress")
        self.start = QPushButton("Start chatting", self)
        self.start.setObjectName("primaryButton")
        self.start.setDefault(True)
        self.start.clicked.connect(self.accept)
        hint = plain_label(
            "You can write while the model arrives; the first answer starts as soon as it is ready.", self
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setSpacing(12)
        layout.addWidget(title)
        layout.addWidget(lines)
        layout.addSpacing(8)
        layout.addWidget(self.status)
        layout.addWidget(self.progress)
        layout.addWidget(hint)
        layout.addWidget(self.start)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt naming)
        """A dialog does not size itself by its wrapped labels' height for its width; give it that height."""
        super().showEvent(event)
        for label in self.findChildren(QLabel):
            if label.wordWrap():
                label.setMinimumHeight(label.heightForWidth(label.width()) + 4)
        self.adjustSize()

    def show_progress(self, progress: FetchProgress) -> None:
        show_progress(self.status, self.progress, progress)

    def model_ready(self, model_id: str) -> None:
        self.status.setText(f"The default model ({model_id}) is ready on this computer. No account or key is needed.")
        self.progress.setRange(0, 1)
        self.progress.setValue(1)

    def model_failed(self, message: str) -> None:
        self.status.setText(f"The default model could not be prepared: {message}")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
