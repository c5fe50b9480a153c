"""Compare in the window: both answers side by side, and the one kept becomes the answer on show."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from app.core.conversation.learning import labels
from app.ui.compare_dialog import CompareDialog
from app.ui.message_actions import MessageAction
from tests.conftest import config_text, write_user_config
from tests.window_helpers import (
    ANSWER_TIMEOUT_MS,
    click_link,
    last,
    open_store,
    open_window,
    type_and_send,
    wait_for_answer,
)


def keep_when_ready(column: int, seen: list[tuple[str, str]]) -> None:
    """Once both answers are in the dialog, note them and keep the one in ``column``, as a user would."""
    dialogs = [w for w in QApplication.topLevelWidgets() if isinstance(w, CompareDialog) and w.isVisible()]
    if dialogs and dialogs[0].keep[column].isEnabled():
        dialog = dialogs[0]
        seen.append((dialog.panes[0].toPlainText(), dialog.panes[1].toPlainText()))
        dialog.keep[column].click()
        return
    QTimer.singleShot(200, lambda: keep_when_ready(column, seen))


@pytest.mark.server
def test_compare_shows_both_answers_and_keeps_the_one_chosen(
    qtbot, hearth_home: Path, model_file: Path, llama_server: str
):
    text = config_text(
        model_file, privacy="local-and-self-hosted", threshold=0.0, server_url=llama_server, server_logprobs=True
    )
    write_user_config(hearth_home, text)
    with open_window(qtbot) as win:
        type_and_send(qtbot, win, "Name a colour.")
        first = wait_for_answer(qtbot, win)
        seen: list[tuple[str, str]] = []
        QTimer.singleShot(200, lambda: keep_when_ready(1, seen))
        click_link(qtbot, win, 1, MessageAction.COMPARE)  # the dialog runs its own loop until closed
        qtbot.waitUntil(lambda: bool(seen), timeout=ANSWER_TIMEOUT_MS)
        [(on_show, other)] = seen
        assert on_show == first.text and other
        qtbot.waitUntil(lambda: last(win).text == other, timeout=10_000)
    with open_store(hearth_home) as store:
        message = store.message(first.message_id)
        assert message.content == other
        assert [a.tier for a in store.attempts(message.id)] == ["local", "self-hosted"]
        assert [label.verdict.value for label in labels.labels(store, "server")] == ["preferred"]
