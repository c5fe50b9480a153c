"""Settings, the model manager, the dashboard and About, each on a real event loop with real files."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from app.core.config.load import load_config_file
from app.core.config.schema import Updates
from app.ui.about import AboutDialog
from app.ui.dashboard import Dashboard
from app.ui.main import create_app
from app.ui.model_manager import ModelManager
from app.ui.settings_dialog import SettingsDialog
from tests.conftest import Files
from tests.window_helpers import ANSWER_TIMEOUT_MS, open_window, type_and_send, wait_for_answer


def test_settings_are_saved_into_models_toml_keeping_its_comments(qtbot, configured_home: Path):
    with open_window(qtbot, prepare=False) as win:
        dialog = SettingsDialog(win.session.paths, win)
        qtbot.addWidget(dialog)
        dialog.privacy.setCurrentIndex(2)
        dialog.threshold.setValue(0.45)
        dialog.monthly.setValue(5)
        dialog.theme.setCurrentIndex(2)
        dialog.font_size.setValue(14)
        assert not dialog.auto_plan.isChecked(), "plan mode is never automatic until the user says so"
        dialog.auto_plan.setChecked(True)
        dialog.editor.setPlainText("# my own note\n" + dialog.editor.toPlainText())
        dialog.save()
        assert dialog.result() == 1
        win.apply_settings()
        assert win.session.config.settings.threshold == 0.45
        assert QApplication.instance().property("hearthTheme") == "dark"
        assert win.privacy_state.text() == "Privacy: Cloud after consent"
    saved = (configured_home / "config" / "models.toml").read_text()
    config = load_config_file(configured_home / "config" / "models.toml")
    assert saved.startswith("# my own note\n")
    assert config.settings.privacy == "cloud-with-consent" and config.settings.monthly_budget == 5
    assert (config.appearance.theme, config.appearance.font_size) == ("dark", 14)
    assert config.plan.automatic


def test_an_invalid_configuration_is_not_saved_and_names_the_line_and_key(qtbot, configured_home: Path):
    before = (configured_home / "config" / "models.toml").read_text()
    with open_window(qtbot, prepare=False) as win:
        dialog = SettingsDialog(win.session.paths, win)
        qtbot.addWidget(dialog)
        dialog.editor.setPlainText(before.replace("threads = 2", "threads = 'two'"))
        dialog.save()
        assert dialog.result() == 0 and not dialog.problem.isHidden()
        assert "models.smollm2-135m.threads" in dialog.problem.text() and "line" in dialog.problem.text()
    assert (configured_home / "config" / "models.toml").read_text() == before


def test_keys_are_stored_in_the_keychain_and_only_shown_masked(qtbot, configured_home: Path, monkeypatch):
    monkeypatch.setenv("HEARTH_KEY_OPENAI", "sk-planted-secret-1234")
    text = (configured_home / "config" / "models.toml").read_text()
    (configured_home / "config" / "models.toml").write_text(
        text.replace('model = "smol-server"', 'model = "smol-server"\nkey = "openai"')
    )
    with open_window(qtbot, prepare=False) as win:
        dialog = SettingsDialog(win.session.paths, win)
        qtbot.addWidget(dialog)
        shown = [dialog.key_table.item(0, c).text() for c in range(3)]
        assert shown == ["openai", "•••••••• (environment)", "server"]
        assert not any("sk-planted" in w.text() for w in dialog.findChildren(type(dialog.problem)))


def _gguf_bytes(model_file: Path) -> bytes:
    return model_file.read_bytes()[: 3 * 1024 * 1024]  # a GGUF header and enough bytes to download in parts


def import_and_wait(qtbot, manager: ModelManager, source: Path) -> None:
    """Import as the button does (the copy runs on a worker thread) and wait until it has ended."""
    manager.import_path(source)
    qtbot.waitUntil(manager.import_button.isEnabled, timeout=10_000)


def test_the_model_manager_lists_imports_and_deletes_models(qtbot, configured_home: Path, tmp_path: Path):
    create_app()
    with open_window(qtbot, prepare=False) as win:
        manager = ModelManager(win.session, win)
        qtbot.addWidget(manager)
        assert manager.table.item(0, 0).text() == "smollm2-135m (answers first)"
        assert manager.table.item(0, 3).text().startswith("Fits in your RAM")
        good = tmp_path / "tiny.gguf"
        good.write_bytes(b"GGUF" + b"\0" * 1000)
        import_and_wait(qtbot, manager, good)
        names = [manager.table.item(r, 1).text() for r in range(manager.table.rowCount())]
        assert "tiny.gguf" in names
        assert (configured_home / "data" / "models" / "tiny.gguf").exists()
        manager.table.selectRow(names.index("tiny.gguf"))
        manager.use_selected()
        assert manager.config_changed
        config = load_config_file(configured_home / "config" / "models.toml")
        assert config.tiers[0].models[0] == "tiny"


@pytest.fixture
def auto_answer_message_boxes(qtbot, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    shown: list[str] = []

    def answer(box: QMessageBox) -> QMessageBox.StandardButton:
        if box.icon() == QMessageBox.Icon.Warning:
            shown.append(f"{box.windowTitle()}: {box.text()}")
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "exec", answer)
    return shown


def test_a_file_that_is_not_gguf_is_refused_with_a_reason(qtbot, configured_home, tmp_path, auto_answer_message_boxes):
    with open_window(qtbot, prepare=False) as win:
        manager = ModelManager(win.session, win)
        qtbot.addWidget(manager)
        bad = tmp_path / "model.gguf"
        bad.write_bytes(b"PK\x03\x04 zip")
        import_and_wait(qtbot, manager, bad)
        assert auto_answer_message_boxes == [
            "Not imported: model.gguf is not a GGUF model file (it does not start with 'GGUF')."
        ]
        good = tmp_path / "tiny.gguf"
        good.write_bytes(b"GGUF" + b"\0" * 1000)
        import_and_wait(qtbot, manager, good)
        manager.table.selectRow(0)  # the configured model, kept outside Hearth's models folder
        manager.delete_selected()
        assert manager.files[0].path.exists()
        assert "is not in Hearth's models folder" in auto_answer_message_boxes[-1]
        manager.table.selectRow([f.path.name for f in manager.files].index("tiny.gguf"))
        manager.delete_selected()
        assert not (configured_home / "data" / "models" / "tiny.gguf").exists() and good.exists()


def downloading_manager(qtbot, win, server: str) -> ModelManager:
    """The model manager with org/repo's small.gguf typed in, as a user would before pressing Download."""
    manager = ModelManager(win.session, win, endpoint=server)
    qtbot.addWidget(manager)
    manager.repo.setText("org/repo")
    manager.filename.setText("small.gguf")
    return manager


def test_a_hugging_face_download_shows_progress_pauses_resumes_and_is_checked(
    qtbot, configured_home: Path, model_file: Path, server: str
):
    body = _gguf_bytes(model_file)
    Files.files["/org/repo/resolve/main/small.gguf"] = body
    tree = [{"path": "small.gguf", "size": len(body), "lfs": {"oid": hashlib.sha256(body).hexdigest()}}]
    Files.files["/api/models/org/repo/tree/main"] = json.dumps(tree).encode()
    with open_window(qtbot, prepare=False) as win:
        manager = downloading_manager(qtbot, win, server)
        reports: list[object] = []
        manager._relay.progressed.connect(reports.append)
        manager._relay.progressed.connect(lambda _: len(reports) == 2 and manager.pause_button.click())
        manager.download()
        qtbot.waitUntil(lambda: manager._download is None, timeout=ANSWER_TIMEOUT_MS)
        assert "paused" in manager.status.text() and manager.pause_button.text() == "Resume"
        assert manager.progress.value() > 0
        part = configured_home / "data" / "models" / "small.gguf.part"
        assert 0 < part.stat().st_size < len(body)
        manager.pause_button.click()  # resume
        qtbot.waitUntil(lambda: manager._download is None, timeout=ANSWER_TIMEOUT_MS)
        assert manager.status.text() == "Downloaded and checked small.gguf."
        assert (configured_home / "data" / "models" / "small.gguf").read_bytes() == body
        assert Files.requests[-1][1] is not None and Files.requests[-1][1].startswith(
            "bytes="
        )  # resumed, not restarted
        assert "small.gguf" in [manager.table.item(r, 1).text() for r in range(manager.table.rowCount())]


def test_a_download_with_the_wrong_checksum_is_discarded(qtbot, configured_home: Path, model_file: Path, server: str):
    Files.files["/org/repo/resolve/main/small.gguf"] = _gguf_bytes(model_file)
    with open_window(qtbot, prepare=False) as win:
        manager = downloading_manager(qtbot, win, server)
        manager.sha256.setText("0" * 64)
        manager.download()
        qtbot.waitUntil(lambda: manager._download is None, timeout=ANSWER_TIMEOUT_MS)
        assert "SHA-256" in manager.status.text() or "checksum" in manager.status.text().lower()
        assert not (configured_home / "data" / "models" / "small.gguf").exists()


def test_cancelling_a_paused_download_deletes_the_partial_file(qtbot, configured_home: Path, model_file: Path, server):
    Files.files["/org/repo/resolve/main/small.gguf"] = _gguf_bytes(model_file)
    with open_window(qtbot, prepare=False) as win:
        manager = downloading_manager(qtbot, win, server)
        manager.sha256.setText(hashlib.sha256(Files.files["/org/repo/resolve/main/small.gguf"]).hexdigest())
        manager.download()
        manager.pause_button.click()
        qtbot.waitUntil(lambda: manager._download is None, timeout=ANSWER_TIMEOUT_MS)
        assert manager.pause_button.text() == "Resume" and "paused" in manager.status.text()
        manager.cancel()
        assert "cancelled" in manager.status.text()
        assert not (configured_home / "data" / "models" / "small.gguf.part").exists()


def test_the_dashboard_charts_what_happened(qtbot, configured_home: Path):
    with open_window(qtbot) as win:
        type_and_send(qtbot, win, "Name a colour.")
        wait_for_answer(qtbot, win)
        first = Dashboard(win.store, win.session.config, win)
        qtbot.addWidget(first)
        assert "<b>1</b> answer · spent" in first.headline.text()
        type_and_send(qtbot, win, "Name a fruit.")
        wait_for_answer(qtbot, win)
        dashboard = Dashboard(win.store, win.session.config, win)
        qtbot.addWidget(dashboard)
        assert dashboard.by_tier.labels == ["local"] and dashboard.by_tier.values == [1.0]
        assert sum(dashboard.confidence.values) == 2
        assert dashboard.latency.labels == ["local"] and dashboard.latency.values[0] > 0
        assert dashboard.escalation.values == [0.0]
        assert "<b>2</b> answers" in dashboard.headline.text()
        assert dashboard.ways_lines.text().startswith("cascade: 2 answers (0 escalated), none rated yet, median ")
        assert dashboard.ways.values == []  # nothing rated, nothing drawn
        dashboard.show()
        assert dashboard.by_tier.grab().width() > 0


def test_the_value_over_the_tallest_bar_is_written_below_the_charts_title(qtbot):
    from app.ui import theme
    from app.ui.charts import Chart

    create_app()
    bars = Chart("Latency per tier (median, seconds)", theme.LIGHT)
    line_chart = Chart("Escalation rate per day", theme.LIGHT, kind="line")
    for chart in (bars, line_chart):
        qtbot.addWidget(chart)
        chart.resize(380, 220)
        chart.set_data(["local"], [0.9])
    line = bars.fontMetrics().height()
    title_bottom = line + 4
    assert bars.labels_bars() and bars.plot_area(line).top() - line - 2 >= title_bottom
    assert not line_chart.labels_bars() and line_chart.plot_area(line).top() > title_bottom
    assert bars.plot_area(line).bottom() == line_chart.plot_area(line).bottom()  # the axes line up side by side
    assert bars.grab().width() == 380


def test_about_lists_the_version_and_licences(qtbot, tmp_path: Path):
    create_app()
    dialog = AboutDialog(Updates(), tmp_path)
    qtbot.addWidget(dialog)
    rows = {dialog.table.item(r, 0).text(): dialog.table.item(r, 2).text() for r in range(dialog.table.rowCount())}
    assert "LGPL" in rows["PySide6-Essentials"] and "MIT" in rows["httpx"] or "BSD" in rows["httpx"]
    assert "Apache-2.0" in rows["SmolLM2-135M-Instruct (Q4_1 GGUF)"]
    assert rows["Qt"].startswith("LGPL-3.0") and rows["llama.cpp / ggml"].startswith("MIT")
