"""The capability map in Settings: drawn as tasks against models, gaps named, ticks saved as each model's good_at."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from app.core.config.capabilities import Capability
from app.core.config.load import load_config
from app.core.paths import user_paths
from app.ui.settings_dialog import SettingsDialog

CODE = list(Capability).index(Capability.CODE)


def test_the_grid_draws_the_map_and_a_tick_is_saved_as_good_at(qtbot, configured_home: Path):
    dialog = SettingsDialog(user_paths())
    qtbot.addWidget(dialog)
    grid = dialog.capabilities
    assert grid.table.rowCount() == len(Capability) and grid.table.columnCount() == 2
    assert grid.table.horizontalHeaderItem(1).text() == "server"
    assert grid.gaps.text().startswith("No model here is good at reasoning, code, writing")
    grid.table.item(CODE, 1).setCheckState(Qt.CheckState.Checked)
    assert "code" not in grid.gaps.text()  # the gap closes as the box is ticked
    dialog.save()
    assert dialog.result() == SettingsDialog.DialogCode.Accepted
    config = load_config(user_paths())
    assert config.models["server"].good_at == [Capability.CODE]
    assert config.models["smollm2-135m"].good_at == []  # untouched models keep their text as it was
    assert "good_at" not in user_paths().user_config_file.read_text().split("[models.smollm2-135m]")[1].split("[")[0]
