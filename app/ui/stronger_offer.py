"""When "Ask a stronger model" has nowhere to go: say why, and offer the way to add or allow one."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QPushButton, QWidget

from app.core.errors import NoStrongerModel
from app.ui import inert
from app.ui.settings_dialog import SettingsDialog

ALLOW_ONE = (
    "Allow it for this conversation with the privacy menu beside the message box, or for every conversation in "
    "Settings."
)
ADD_ONE = (
    "Only the model on this computer is set up. Add a self-hosted server (Ollama, llama-server, vLLM) or a cloud "
    "model in Settings, under Models and tiers: the commented examples there show how."
)


def offer_stronger_model(parent: QWidget, problem: NoStrongerModel) -> int | None:
    """Ask what to do; returns the Settings tab to open (None: nothing)."""
    box, choices = stronger_model_box(parent, problem)
    box.exec()
    return choices.get(box.clickedButton())


def stronger_model_box(parent: QWidget, problem: NoStrongerModel) -> tuple[QMessageBox, dict[QPushButton, int]]:
    """The question, and the Settings tab each of its buttons opens."""
    # The reason names tiers and models from the settings: plain text, never read as markup.
    box = inert.message_box(
        parent,
        QMessageBox.Icon.Information,
        "No stronger model",
        str(problem),
        ALLOW_ONE if problem.configured else ADD_ONE,
        QMessageBox.StandardButton.NoButton,
    )
    choices: dict[QPushButton, int] = {}
    if problem.configured:
        choices[box.addButton("Privacy settings…", QMessageBox.ButtonRole.ActionRole)] = SettingsDialog.PRIVACY_TAB
    models = box.addButton(
        "Add a model…" if not problem.configured else "Models and tiers…", QMessageBox.ButtonRole.ActionRole
    )
    choices[models] = SettingsDialog.MODELS_TAB
    box.addButton(QMessageBox.StandardButton.Close)
    box.setDefaultButton(next(iter(choices)))
    return box, choices
