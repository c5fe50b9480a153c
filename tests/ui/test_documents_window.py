"""Documents in the window: add a folder, watch it index, ask, click the citation and land at the page."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QThreadPool, QUrl
from PySide6.QtGui import QDesktopServices, QDropEvent
from PySide6.QtWidgets import QInputDialog

from app.core.config.load import load_config
from app.core.documents.library import Library
from app.core.documents.setup import EmbeddingSetup
from app.core.paths import user_paths
from app.ui.documents_panel import DocumentsPanel
from app.ui.message_actions import MessageAction
from tests.conftest import Files, config_text, write_user_config
from tests.document_files import write_pdf
from tests.window_helpers import click_link, last, open_window, requests_in, type_and_send, wait_for_answer

INDEX_TIMEOUT_MS = 120_000


@pytest.fixture
def club(tmp_path: Path) -> Path:
    folder = tmp_path / "club"
    folder.mkdir()
    write_pdf(folder / "minutes.pdf", ["Minutes of the rowing club, March.", "The boathouse key is kept by Jo."])
    (folder / "rules.md").write_text("# Rules\n\n## Boats\n\nBoats are washed after every outing.\n", "utf-8")
    return folder


def names_listed(panel: DocumentsPanel) -> list[str]:
    return [panel.list.item(row).text() for row in range(panel.list.count())]


def settled_progress(qtbot, panel: DocumentsPanel) -> int:
    """The progress once every file read before the pause has been reported (on a busy machine
    that takes a while), the same over 300 ms."""
    value = None
    while value != panel.progress.value():
        value = panel.progress.value()
        qtbot.wait(300)
    return value


def words_only_panel(tmp_path: Path) -> DocumentsPanel:
    """The Documents section as it is before the embedding model is installed."""
    paths = user_paths()
    return DocumentsPanel(Library(tmp_path / "documents.db", None), EmbeddingSetup(load_config(paths), paths))


def test_a_folder_is_indexed_asked_about_and_the_citation_opens_the_page(
    qtbot, hearth_home: Path, model_file: Path, embedding_file: Path, club: Path, monkeypatch
):
    config = config_text(model_file, embedding_file=embedding_file).replace("threads = 2", "threads = 1")
    write_user_config(hearth_home, config)
    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toString()))
    with open_window(qtbot) as win:
        panel = win.documents
        assert panel is not None and panel.library.embedder is not None
        assert panel.embedding.isHidden(), "the embedding model is installed: nothing to offer"
        panel.add_paths([club], name="club")
        qtbot.waitUntil(lambda: not panel.busy, timeout=INDEX_TIMEOUT_MS)
        assert names_listed(panel) == ["club — 2 files, 4 chunks"]
        [choice] = [action for action in win.composer.documents.menu().actions() if action.text() == "club"]
        choice.setChecked(True)
        assert win.composer.documents.text() == "Documents: club"

        type_and_send(qtbot, win, "Who keeps the boathouse key?")
        answer = wait_for_answer(qtbot, win)
        [first, *_] = answer.sources
        assert (Path(first.path).name, first.page) == ("minutes.pdf", 2)
        row = len(win.chat.conversation.items()) - 1
        cited = [r for r in requests_in(win, row) if r.action == MessageAction.OPEN_SOURCE]
        assert len(cited) == len(answer.sources), "one link per stored source, none from the answer's own text"
        click_link(qtbot, win, row, MessageAction.OPEN_SOURCE)
        assert opened == [QUrl.fromLocalFile(str(club / "minutes.pdf")).toString() + "#page=2"]

        win.conversations.open_conversation(win.conversations.conversation_id)
        assert last(win).sources == answer.sources, "the sources come back with the conversation"


def test_indexing_pauses_between_files_and_a_cancelled_run_is_finished_by_a_rescan(qtbot, tmp_path: Path):
    folder = tmp_path / "many"
    folder.mkdir()
    for number in range(300):
        (folder / f"note{number:03}.txt").write_text(f"Note number {number} about rowing.", "utf-8")
    panel = words_only_panel(tmp_path)
    qtbot.addWidget(panel)
    panel.add_paths([folder], name="many")
    panel.pause_button.setChecked(True)
    try:
        assert panel.pause_button.text() == "Resume"
        held = settled_progress(qtbot, panel)
        qtbot.wait(300)
        assert panel.busy and panel.progress.value() == held < 300, "paused: no further file is read"
    finally:
        panel.cancel_button.click()  # even after a failed check: a paused worker would hold up every later test
    qtbot.waitUntil(lambda: not panel.busy, timeout=INDEX_TIMEOUT_MS)
    [partial] = panel.library.collections()
    assert partial.files < 300
    panel.rescan_button.click()
    qtbot.waitUntil(lambda: not panel.busy and names_listed(panel) == ["many — 300 files, 300 chunks"], timeout=60_000)
    assert QThreadPool.globalInstance().waitForDone(10_000)


def test_folders_dropped_on_the_section_are_added_to_the_named_collection(
    qtbot, tmp_path: Path, club: Path, monkeypatch
):
    panel = words_only_panel(tmp_path)
    qtbot.addWidget(panel)
    monkeypatch.setattr(QInputDialog, "getText", lambda *args, **kwargs: ("rowing", True))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(club))])
    drop = QDropEvent(
        QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    panel.dropEvent(drop)
    qtbot.waitUntil(lambda: not panel.busy, timeout=INDEX_TIMEOUT_MS)
    assert names_listed(panel) == ["rowing — 2 files, 4 chunks"]
    assert QThreadPool.globalInstance().waitForDone(10_000)


def test_files_added_changed_or_deleted_while_hearth_runs_are_indexed_without_a_rescan(
    qtbot, tmp_path: Path, club: Path
):
    panel = words_only_panel(tmp_path)
    qtbot.addWidget(panel)
    panel.add_paths([club], name="club")
    qtbot.waitUntil(lambda: not panel.busy, timeout=INDEX_TIMEOUT_MS)
    assert names_listed(panel) == ["club — 2 files, 4 chunks"] and panel.watcher.watching == {"club": [club]}
    assert panel.status.text() == "club: up to date. Changes in its folders are picked up while Hearth runs."
    (club / "boats").mkdir()
    (club / "boats" / "fleet.md").write_text("# Fleet\n\nTwo eights and a four.\n", "utf-8")
    (club / "minutes.pdf").unlink()
    qtbot.waitUntil(lambda: not panel.busy and names_listed(panel) == ["club — 2 files, 3 chunks"], timeout=60_000)
    [collection] = panel.library.collections()
    hits = panel.library.search(["club"], "How many eights are there?")
    assert collection.files == 2 and hits and Path(hits[0].chunk.path).name == "fleet.md"
    panel.wait()
    (club / "late.md").write_text("Written after the panel stopped watching.", "utf-8")
    qtbot.wait(3000)
    assert names_listed(panel) == ["club — 2 files, 3 chunks"], "a stopped watcher rescans nothing"
    assert QThreadPool.globalInstance().waitForDone(10_000)


def test_the_section_offers_the_missing_embedding_model_and_searches_by_meaning_once_it_is_fetched(
    qtbot, hearth_home: Path, model_file: Path, embedding_file: Path, club: Path, server: str
):
    body = embedding_file.read_bytes()
    Files.files["/org/minilm/resolve/main/minilm.gguf"] = body
    listing = [{"path": "minilm.gguf", "size": len(body), "lfs": {"oid": hashlib.sha256(body).hexdigest()}}]
    Files.files["/api/models/org/minilm/tree/main"] = json.dumps(listing).encode()
    source = (
        f'source = {{ kind = "huggingface", repo = "org/minilm", filename = "minilm.gguf", endpoint = "{server}" }}'
    )
    config = config_text(model_file, embedding_file=embedding_file).replace(
        f'file = "{embedding_file}"', f'file = "minilm.gguf"\n{source}'
    )
    write_user_config(hearth_home, config.replace("threads = 2", "threads = 1"))
    with open_window(qtbot) as win:
        panel = win.documents
        assert panel is not None and panel.library.embedder is None
        assert not panel.embedding.isHidden() and not panel.embedding.get_button.isHidden()
        assert panel.embedding.note.text() == (
            "The embedding model minilm is not installed: documents are searched by their words alone."
        )
        panel.add_paths([club], name="club")
        qtbot.waitUntil(lambda: not panel.busy, timeout=INDEX_TIMEOUT_MS)
        question = "Which person can unlock the door?"  # shares no word with the minutes but "the"
        assert panel.library.search(["club"], question, method="vector") == [], "no vectors yet"

        panel.embedding.get_button.click()
        qtbot.waitUntil(lambda: panel.library.embedder is not None and not panel.busy, timeout=INDEX_TIMEOUT_MS)
        assert panel.embedding.isHidden()
        assert (hearth_home / "data" / "models" / "minilm.gguf").read_bytes() == body
        [first, *_] = panel.library.search(["club"], question, method="vector")
        assert Path(first.chunk.path).name == "minutes.pdf", "the vectors of what was indexed were computed"
    assert QThreadPool.globalInstance().waitForDone(10_000)


def test_the_sections_notes_are_never_cut_off_in_a_narrow_sidebar(qtbot, tmp_path: Path):
    """However many lines the notes wrap onto (a large font, a long status), the section takes the
    height they need from the conversation list above it."""
    from PySide6.QtWidgets import QApplication, QListWidget, QSplitter

    app = QApplication.instance()
    font = app.font()
    sidebar = QSplitter(Qt.Orientation.Vertical)
    qtbot.addWidget(sidebar)
    panel = words_only_panel(tmp_path)
    sidebar.addWidget(QListWidget())
    sidebar.addWidget(panel)
    sidebar.resize(260, 760)
    sidebar.setSizes([520, 240])  # as the window opens
    sidebar.show()
    try:
        bigger = app.font()
        bigger.setPointSize(font.pointSize() + 4)
        app.setFont(bigger)
        panel.status.setText("Indexing club: 120/300 a-file-with-a-long-name-from-the-minutes-of-march.pdf · paused")
        notes = [panel.embedding.note, panel.status]
        qtbot.waitUntil(lambda: all(note.height() >= note.heightForWidth(note.width()) for note in notes))
        assert panel.embedding.note.heightForWidth(panel.embedding.note.width()) > 3 * panel.fontMetrics().height()
        assert sum(sidebar.sizes()) <= 760 and sidebar.sizes()[0] > 0
    finally:
        app.setFont(font)
