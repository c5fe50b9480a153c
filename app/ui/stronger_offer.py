"""When "Ask a stronger model" has nowhere to go: say why, and offer the way to add or allow one."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from app.core.errors import NoStrongerModel
from app.ui.settings_dialog import SettingsDialog


def offer_stronger_model(parent: QWidget, problem: NoStrongerModel) -> int | None:
    """Ask what to do; returns the Settings tab to open (None: nothing)."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Information)
    box.setWindowTitle("No stronger model")
    box.setText(str(problem))
    choices = {}
    if problem.configured:
        box.setInformativeText(
            "Allow it for this conversation with the privacy menu beside the message box, or for every "
            "conversation in Settings."
        )
        choices[box.addButton("Privacy settings…", QMessageBox.ButtonRole.ActionRole)] = SettingsDialog.PRIVACY_TAB
    else:
        box.setInformativeText(
            "Only the model on this computer is set up. Add a self-hosted server (Ollama, llama-server, vLLM) "
            "or a cloud model in Settings, under Models and tiers: the commented examples there show how."
        )
    models = box.addButton(
        "Add a model…" if not problem.configured else "Models and tiers…", QMessageBox.ButtonRole.ActionRole
    )
    choices[models] = SettingsDialog.MODELS_TAB
    box.addButton(QMessageBox.StandardButton.Close)
    box.setDefaultButton(next(iter(choices)))
    box.exec()
    return choices.get(box.clickedButton())
