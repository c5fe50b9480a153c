"""Huge answers: the window draws only what it can lay out quickly, lays out again only what changed, and
offers the whole text. (How responsive it stays is measured by bench/large_answers.py, not here.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QPushButton

import app.ui.message_delegate as message_delegate
from app.ui.message_actions import MessageAction
from app.ui.message_pieces import PIECE_MAX, SHOWN_MAX
from app.ui.text_viewer import TextViewer
from tests.answer_server import answer_server, large_answer
from tests.conftest import config_text, write_user_config
from tests.render_helpers import conversation_with
from tests.window_helpers import click_link, last, open_window, requests_in, stored_messages, type_and_send, wait_idle

CARRIED = 200  # a piece may begin with its code block's fence or its table's header again


def _layout(win, row: int):
    view = win.chat
    return view.delegate.layout(view.conversation.item(row), view.viewport().width(), view.font())


def _laid_out(qtbot, win, row: int):
    """The layout of message ``row`` once all its pieces are laid out (it takes a few turns of the event loop)."""
    qtbot.waitUntil(lambda: _layout(win, row).complete, timeout=30_000)
    return _layout(win, row)


@pytest.mark.parametrize("kind", ["code", "word"])
def test_a_huge_answer_opens_drawn_in_pieces_and_is_offered_whole(
    qtbot, configured_home: Path, tmp_path: Path, monkeypatch, kind: str
):
    text = large_answer(kind, 5_000_000)
    conversation = conversation_with(configured_home, text)
    with open_window(qtbot, prepare=False) as win:
        win.conversations.open_conversation(conversation)
        win.chat.viewport().grab()
        layout = _laid_out(qtbot, win, 1)
        drawn = [drawn.document.toPlainText() for drawn in layout.body]
        assert len(drawn) > 1 and all(len(piece) <= 2 * PIECE_MAX + CARRIED for piece in drawn)
        assert sum(map(len, drawn)) <= SHOWN_MAX + CARRIED * len(drawn)
        assert "Showing the first" in layout.footer.toPlainText() and f"{len(text):,} characters" in (
            layout.footer.toPlainText()
        )
        wide = [d.document.size().width() for d in layout.body if d.document.size().width() > layout.bubble.width()]
        assert wide == [], "a piece is wider than its bubble"
        offered = {request.action for request in requests_in(win, 1)}
        assert {MessageAction.SHOW_ALL, MessageAction.SAVE} <= offered

        click_link(qtbot, win, 1, MessageAction.SHOW_ALL)
        viewer = win.findChildren(TextViewer)[-1]
        qtbot.waitUntil(viewer.filled, timeout=60_000)
        assert viewer.view.toPlainText().replace("\n", "") == text.replace("\n", "")
        copy = next(button for button in viewer.findChildren(QPushButton) if button.text() == "Copy all")
        copy.click()
        assert QApplication.clipboard().text() == text
        viewer.close()

        saved = tmp_path / "answer.md"
        monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *_a, **_k: (str(saved), "")))
        click_link(qtbot, win, 1, MessageAction.SAVE)
        assert saved.read_text(encoding="utf-8") == text

        # Saved over a folder by mistake: said in words, and nothing is lost.
        warned: list[str] = []
        monkeypatch.setattr(QMessageBox, "exec", lambda box: warned.append(box.text()) or 0)
        monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *_a, **_k: (str(tmp_path), "")))
        click_link(qtbot, win, 1, MessageAction.SAVE)
        assert len(warned) == 1 and "is a folder, not an ordinary file" in warned[0]
        assert saved.read_text(encoding="utf-8") == text


def test_a_long_unbroken_word_wraps_inside_its_bubble(qtbot, configured_home: Path):
    conversation = conversation_with(configured_home, "See: " + "x" * 9_000 + " and that is all.")
    with open_window(qtbot, prepare=False) as win:
        win.conversations.open_conversation(conversation)
        layout = _laid_out(qtbot, win, 1)
        for drawn in layout.body:
            assert drawn.document.size().width() <= drawn.document.textWidth() + 1
        assert "that is all" in layout.body[-1].document.toPlainText()


def test_a_huge_streamed_answer_arrives_whole_and_only_its_end_is_laid_out_again(
    qtbot, hearth_home: Path, model_file: Path, monkeypatch
):
    """2 MB of code from a self-hosted server: every character is kept, and the work of drawing it does not grow
    with it (each flush lays out the last piece again, and nothing once the drawn part is full)."""
    text = large_answer("code", 2_000_000)
    rendered: list[int] = []
    real_render = message_delegate.render

    def counted(markdown: str, *args: object) -> object:
        rendered.append(len(markdown))
        return real_render(markdown, *args)

    monkeypatch.setattr(message_delegate, "render", counted)
    with answer_server({"big": text}, chunk=256) as server:
        config = config_text(
            model_file, privacy="local-and-self-hosted", threshold=1.0, server_url=f"{server}/big/v1"
        ).replace("max_answer_tokens = 48", "max_answer_tokens = 1024")
        write_user_config(hearth_home, config)
        with open_window(qtbot) as win:
            qtbot.waitUntil(lambda: win.model.ready, timeout=120_000)
            type_and_send(qtbot, win, "Reply with one word: yes.")
            qtbot.waitUntil(lambda: len(last(win).text) > SHOWN_MAX, timeout=120_000)
            rendered.clear()  # from here on the drawn part is full
            wait_idle(qtbot, win)
            assert last(win).text == text
            assert stored_messages(hearth_home)[-1].content == text
            assert max(rendered, default=0) <= 2 * PIECE_MAX + CARRIED
            assert sum(rendered) <= 4 * SHOWN_MAX, "the drawn part was laid out again and again"
