"""What a model, a file or a setting says is shown inertly: nothing it names is loaded, followed or run.

Each hostile value is put where Hearth meets it (an answer in the database, a
conversation's title, an import file, a configured model) and the real window
shows it, offscreen. Real files tell what happened: a FIFO that counts whoever
opened it (a window that did would have hung for ever), a magenta PNG that must
not appear on screen, and /dev/zero in a child process with a memory limit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPoint, Qt, QTimer
from PySide6.QtGui import QDesktopServices, QHelpEvent, QTextDocument
from PySide6.QtGui import Qt as TextQt  # where Qt keeps mightBeRichText
from PySide6.QtWidgets import QApplication, QFileDialog, QLabel, QMessageBox, QToolTip

from app.core.answers import Attempt
from app.core.config.schema import Location
from app.core.privacy.gate import ConsentRequest
from app.core.providers.base import Message
from app.core.storage.store import Store
from app.ui.consent import ConsentDialog
from app.ui.main import create_app
from app.ui.message_actions import MessageAction
from tests.render_helpers import FifoWatch, conversation_with, magenta_png, shows_magenta
from tests.window_helpers import click_link, open_store, open_window, requests_in

REPO = Path(__file__).resolve().parents[2]


def _image_sources(fifo: Path) -> dict[str, str]:
    """How an answer can name one file: by its path, relative to where Hearth runs, or as a UNC-style path."""
    return {
        "absolute path": str(fifo),
        "../.. path": os.path.relpath(fifo, Path.cwd()),
        "//host/share path": "//" + str(fifo).lstrip("/"),
    }


@pytest.mark.parametrize("kind", ["absolute path", "../.. path", "//host/share path"])
def test_an_image_an_answer_names_is_never_opened(qtbot, configured_home: Path, tmp_path: Path, kind: str):
    with FifoWatch(tmp_path / "photo.png") as fifo:
        source = _image_sources(fifo.path)[kind]
        conversation = conversation_with(configured_home, f"Here it is:\n\n![a photo of you]({source})\n\nNice?")
        with open_window(qtbot, prepare=False) as win:
            win.conversations.open_conversation(conversation)
            win.chat.viewport().grab()  # painted, as the user sees it
            qtbot.wait(100)
            assert fifo.opened == 0, f"the window opened {source}"
            assert "[image: a photo of you]" in _drawn_text(win, 1)


def test_a_photo_on_disk_named_by_an_answer_does_not_appear(qtbot, configured_home: Path, tmp_path: Path, monkeypatch):
    photo = magenta_png(tmp_path / "holiday.png")
    answer = f"![me]({photo})\n\n![me again]({os.path.relpath(photo, Path.cwd())})"
    conversation = conversation_with(configured_home, answer)
    with open_window(qtbot, prepare=False) as win:
        win.conversations.open_conversation(conversation)
        assert not shows_magenta(win.chat.viewport().grab().toImage())
        # The image is offered as a link to its address, which is not a web page: clicking opens nothing.
        opened: list[object] = []
        monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url))
        click_link(qtbot, win, 1, MessageAction.OPEN_LINK, str(photo))
        assert opened == [] and "Not opened" in win.statusBar().currentMessage()


def test_an_answer_naming_dev_zero_shows_and_shows_again(configured_home: Path):
    """/dev/zero never ends: a window that read it ran out of memory (bad_alloc) at every opening."""
    conversation_with(configured_home, "![x](/dev/zero) and ![y](//dev/zero)")
    child = textwrap.dedent(
        """
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))
        from app.ui.main import build_window, create_app
        app = create_app()
        win = build_window()
        win.show()
        for _ in range(2):  # opened, and opened again
            win.conversations.open_conversation(win.store.conversations()[0].id)
            win.chat.viewport().grab()
            app.processEvents()
        win.close()
        win.session.close()
        print("shown")
        """
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HEARTH_HOME": str(configured_home)}
    done = subprocess.run([sys.executable, "-c", child], env=env, cwd=REPO, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0 and "shown" in done.stdout, done.stderr[-2000:]


TOOLTIPS_RAISE = pytest.mark.qt_log_ignore("This plugin does not support raise")


@TOOLTIPS_RAISE
def test_a_conversation_title_is_shown_as_text_in_its_tooltip_and_undo_bar(qtbot, configured_home: Path, tmp_path):
    with FifoWatch(tmp_path / "title.png") as fifo:
        title = f'<img src="{fifo.path}"> <b>bold?</b>'
        conversation_with(configured_home, "Fine.", title=title)
        with open_window(qtbot, prepare=False) as win:
            sidebar = win.sidebar.list
            _hover(sidebar.viewport(), sidebar.visualItemRect(sidebar.item(0)).center())
            assert _shown_tooltip().startswith(title)
            sidebar.setCurrentRow(0)
            win.sidebar.delete_current()
            qtbot.waitUntil(lambda: win.sidebar.undo_label.isVisible())
            assert win.sidebar.undo_label.text() == f"Deleted “{title[:40]}”"
            assert win.sidebar.undo_label.textFormat() == Qt.TextFormat.PlainText
            qtbot.wait(100)
            assert fifo.opened == 0


@TOOLTIPS_RAISE
def test_the_answer_tooltip_shows_the_reason_as_text(qtbot, configured_home: Path, tmp_path: Path):
    with FifoWatch(tmp_path / "reason.png") as fifo:
        conversation = conversation_with(configured_home, "Paris.")
        reason = f'Server said: <img src="{fifo.path}">'
        with Store(configured_home / "data" / "hearth.db") as store:
            answer = store.messages(conversation)[-1].id
            store.put_attempt(answer, 0, Attempt("local", "smollm2-135m", "local", "Paris.", 0.9, reason=reason))
        with open_window(qtbot, prepare=False) as win:
            win.conversations.open_conversation(conversation)
            view = win.chat
            _hover(view.viewport(), view.visualRect(view.conversation.index(1)).center())
            assert reason in _shown_tooltip()
            qtbot.wait(100)
            assert fifo.opened == 0


def test_a_rejected_import_names_its_format_as_text(qtbot, configured_home: Path, tmp_path: Path, monkeypatch):
    """The "Import failed" box quotes the file's own ``format`` field: it must not render it."""
    with FifoWatch(tmp_path / "format.png") as fifo:
        bad = tmp_path / "export.json"
        document = {"format": f'<img src="{fifo.path}">', "version": 1, "exported_at": "now", "conversations": []}
        bad.write_text(json.dumps(document))
        monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *_a, **_k: (str(bad), "")))
        boxes: list[tuple[str, Qt.TextFormat]] = []

        def close_the_box() -> None:
            box = QApplication.activeModalWidget()
            if not isinstance(box, QMessageBox):
                QTimer.singleShot(50, close_the_box)
                return
            boxes.append((box.text(), box.textFormat()))
            box.done(0)

        with open_window(qtbot, prepare=False) as win:
            QTimer.singleShot(50, close_the_box)
            win.conversations.import_conversations()
            assert fifo.opened == 0
        assert len(boxes) == 1 and '<img src="' in boxes[0][0]  # the format named, as text (cut if long)
        assert boxes[0][1] == Qt.TextFormat.PlainText


FORGED = (
    "[Show sources](action:stronger) · [Thanks](action:up) · <action:down> · [copy](copy:0) · "
    "[next](version:next) · [web](https://example.com/page?q=1) · [your bank](https://example.com@evil.example/login)"
    "\n\n```python\nprint('hi')\n```"
)


def test_links_in_an_answer_cannot_trigger_the_windows_actions(qtbot, configured_home: Path, monkeypatch):
    conversation = conversation_with(configured_home, FORGED)
    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toString()))
    with open_window(qtbot, prepare=False) as win:
        win.conversations.open_conversation(conversation)
        found = requests_in(win, 1)
        written = sorted(r.address for r in found if r.action == MessageAction.OPEN_LINK)
        disguised = "https://example.com@evil.example/login"
        assert written == ["action:down", "action:stronger", "action:up", "copy:0", "https://example.com/page?q=1"] + [
            disguised,
            "version:next",
        ]
        own = {r.action for r in found} - {MessageAction.OPEN_LINK}
        assert own == {
            MessageAction.COPY_CODE,
            MessageAction.COPY,
            MessageAction.RATE_UP,
            MessageAction.RATE_DOWN,
            MessageAction.REGENERATE,
            MessageAction.STRONGER,
            MessageAction.COMPARE,
        }
        web = "https://example.com/page?q=1"
        for address in (a for a in written if a not in (web, disguised)):
            click_link(qtbot, win, 1, MessageAction.OPEN_LINK, address)
            assert "Not opened" in win.statusBar().currentMessage()
            assert win.composer.send_button.isVisible(), "a forged link started an answer"
        with open_store(configured_home) as store:
            assert list(store.db["feedback"].rows) == []
            assert len(store.messages(conversation)) == 2
        assert opened == []
        # A web address opens only once the user saw it and said yes.
        for answer, expected in ((QMessageBox.StandardButton.No, []), (QMessageBox.StandardButton.Yes, [web])):
            monkeypatch.setattr(QMessageBox, "exec", lambda box, answer=answer: _asked(box, answer))
            click_link(qtbot, win, 1, MessageAction.OPEN_LINK, web)
            assert opened == expected
        assert _asked.seen[-1][:2] == ("Open this web address?", "This link leads to example.com.")
        assert web in _asked.seen[-1][2]
        # A link dressed as another site: the dialog names where it really leads, and that is what opens.
        click_link(qtbot, win, 1, MessageAction.OPEN_LINK, disguised)
        title, text, informative = _asked.seen[-1]
        assert text == "This link leads to evil.example." and "looks like it leads elsewhere" in informative
        assert opened[-1] == "https://evil.example/login"


def _asked(box: QMessageBox, answer: QMessageBox.StandardButton) -> QMessageBox.StandardButton:
    _asked.seen.append((box.windowTitle(), box.text(), box.informativeText()))
    return answer


_asked.seen = []


def test_a_crafted_model_value_cannot_fake_the_destination_or_hide_the_notice(qtbot):
    create_app()
    crafted = "gpt-4o at https://api.openai.com/v1</b>). It is free.<!-- \u202e"
    request = ConsentRequest(
        model_id="work",
        location=Location.CLOUD,
        destination=f"{crafted} at https://collector.example.net/v1",
        address="https://collector.example.net/v1",
        purpose="cloud",
        messages=[Message("user", "My secret plan.")],
        estimated_cost=0.5,
    )
    dialog = ConsentDialog(request)
    qtbot.addWidget(dialog)
    seen = " ".join(_visible_text(label) for label in dialog.findChildren(QLabel))
    assert "https://collector.example.net/v1" in seen, "the real destination is hidden"
    assert "names and addresses are not" in seen, "the redaction notice is hidden"
    assert "$0.5000" in seen and "</b>). It is free.<!--" in seen  # the crafted value, shown as it is
    assert "\u202e" not in seen  # a right-to-left override would turn the rest of the line around


# Helpers
def _drawn_text(win, row: int) -> str:
    layout = win.chat.delegate.layout(win.chat.conversation.item(row), win.chat.viewport().width(), win.chat.font())
    return "".join(drawn.document.toPlainText() for drawn in layout.body)


def _hover(widget, point: QPoint) -> None:
    QApplication.sendEvent(widget, QHelpEvent(QEvent.Type.ToolTip, point, widget.mapToGlobal(point)))


def _shown_tooltip() -> str:
    """The tooltip's text as the user reads it (rich text rendered, as Qt shows it)."""
    assert QToolTip.isVisible()
    text = QToolTip.text()
    QToolTip.hideText()
    if not TextQt.mightBeRichText(text):
        return text
    document = QTextDocument()
    document.setHtml(text.replace("<img", "<nothing"))  # read, never load
    return document.toPlainText()


def _visible_text(label: QLabel) -> str:
    if label.textFormat() == Qt.TextFormat.PlainText or not TextQt.mightBeRichText(label.text()):
        return label.text()
    document = QTextDocument()
    document.setHtml(label.text().replace("<img", "<nothing"))
    return document.toPlainText()
