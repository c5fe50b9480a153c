"""The rule, checked on every window and dialog: no label lets Qt guess whether its text is HTML, and every
tooltip is plain text or Hearth's escaped wrapper (app/ui/inert.py)."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import Qt as TextQt  # where Qt keeps mightBeRichText
from PySide6.QtWidgets import QAbstractItemView, QLabel, QListView, QMessageBox, QWidget

from app.core.config.schema import Config, LocalModel, Location
from app.core.documents.setup import EmbeddingSetup
from app.core.errors import NoStrongerModel
from app.core.paths import CRASH_REPORTS, UserPaths
from app.core.privacy.gate import ConsentRequest
from app.core.providers.base import Message
from app.ui import inert
from app.ui.about import AboutDialog
from app.ui.consent import ConsentDialog
from app.ui.crash_offer import CrashReportOffer
from app.ui.dashboard import Dashboard
from app.ui.embedding_offer import EmbeddingOffer
from app.ui.model_manager import ModelManager
from app.ui.settings_dialog import SettingsDialog
from app.ui.stronger_offer import stronger_model_box
from app.ui.text_viewer import TextViewer
from tests.render_helpers import conversation_with
from tests.window_helpers import open_window

HOSTILE = '<img src="/dev/zero"> <b>x</b>'
ESCAPED_TOOLTIP = re.compile(r'<p style="white-space:pre-wrap">[^<]*</p>', re.DOTALL)


def guesses(widget: QWidget) -> list[str]:
    """Every label and tooltip in ``widget`` whose text Qt could take for HTML."""
    found = []
    for label in [widget, *widget.findChildren(QWidget)]:
        if isinstance(label, QLabel) and label.textFormat() == Qt.TextFormat.AutoText:
            found.append(f"label {label.objectName() or label.text()[:40]!r} guesses its format")
        if isinstance(label, QLabel) and label.textFormat() == Qt.TextFormat.RichText and "<img" in label.text():
            found.append(f"rich label {label.text()[:40]!r} has an image")
        found += _tip_problem(label.toolTip(), f"tooltip of {type(label).__name__}")
    for view in widget.findChildren(QAbstractItemView):
        model = view.model()
        for row in range(min(model.rowCount(), 200)):
            for column in range(1 if isinstance(view, QListView) else model.columnCount()):
                tip = model.data(model.index(row, column, QModelIndex()), Qt.ItemDataRole.ToolTipRole)
                found += _tip_problem(tip or "", f"tooltip of row {row} of {view.objectName() or type(view).__name__}")
    return found


def _tip_problem(tip: str, where: str) -> list[str]:
    if not tip or not TextQt.mightBeRichText(tip) or ESCAPED_TOOLTIP.fullmatch(tip):
        return []
    return [f"{where} is rich text: {tip[:60]!r}"]


def embedding_named(model_id: str, config: Config, paths: UserPaths) -> EmbeddingSetup:
    """The setup of an embedding model whose id in models.toml is ``model_id``."""
    model = next(m for m in config.models.values() if isinstance(m, LocalModel))
    documents = config.documents.model_copy(update={"embedding_model": model_id})
    return EmbeddingSetup(config.model_copy(update={"models": {model_id: model}, "documents": documents}), paths)


def test_no_window_or_dialog_lets_qt_guess(qtbot, configured_home: Path, tmp_path: Path, keychain):
    conversation = conversation_with(configured_home, f"An answer with {HOSTILE}", title=HOSTILE)
    reports = configured_home / "data" / CRASH_REPORTS
    reports.mkdir(parents=True)
    (reports / "crash-20250101-000000-1.txt").write_text(f"Traceback: {HOSTILE}")
    with open_window(qtbot, prepare=False) as win:
        win.conversations.open_conversation(conversation)
        win.show_welcome()
        win.composer.add_files([tmp_path / "<b>photo</b>.png"])
        request = ConsentRequest(
            HOSTILE,
            Location.CLOUD,
            f"{HOSTILE} at https://x.example",
            "https://x.example",
            "cloud",
            [Message("user", "hi")],
            0,
        )
        dialogs = [
            win,
            SettingsDialog(win.session.paths, win),
            ModelManager(win.session, win),
            Dashboard(win.store, win.session.config, win),
            AboutDialog(win.session.config.updates, win.session.paths.data, win),
            ConsentDialog(request, win),
            TextViewer(HOSTILE, win),
            CrashReportOffer(sorted(reports.iterdir()), win),
            inert.message_box(win, QMessageBox.Icon.Warning, "Import failed", HOSTILE, HOSTILE),
            stronger_model_box(win, NoStrongerModel(f"the tier {HOSTILE} is not allowed", configured=True))[0],
            EmbeddingOffer(embedding_named(HOSTILE, win.session.config, win.session.paths), win),
        ]
        win.sidebar.list.setCurrentRow(0)
        win.sidebar.rename_current()
        dialogs.append(win.sidebar.rename_dialog)
        problems = [f"{type(d).__name__}: {problem}" for d in dialogs for problem in guesses(d)]
        for dialog in dialogs[1:]:
            dialog.close()
        assert problems == []
