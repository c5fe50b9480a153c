"""The composer: attachments (button or drop), bad files refused without losing the draft, quick answers, privacy."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QMimeData, QUrl

from app.core.config.schema import Privacy
from app.core.privacy.policy import PRIVACY_LABELS
from tests.conftest import config_text, write_user_config
from tests.window_helpers import items, open_store, open_window, type_and_send, wait_for_answer, wait_idle


def drop(win, *paths: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    win.composer.edit.insertFromMimeData(mime)


def test_a_dropped_text_file_is_sent_with_the_message(qtbot, configured_home: Path, tmp_path: Path):
    notes = tmp_path / "notes.txt"
    notes.write_text("Buy flour and yeast.\n", encoding="utf-8")
    with open_window(qtbot) as win:
        drop(win, notes)
        assert win.composer.attached_label.text() == "Attached: notes.txt"
        type_and_send(qtbot, win, "Summarise my notes.")
        wait_for_answer(qtbot, win)
        assert win.composer.attachments == [] and win.composer.attached_label.text() == ""
        sent = items(win)[0].text
        assert sent.startswith("Summarise my notes.") and "Attached file notes.txt:" in sent and "Buy flour" in sent
    with open_store(configured_home) as store:
        question = store.messages(store.conversations()[0].id)[0]
        assert "Buy flour and yeast." in question.content


def test_a_binary_file_pretending_to_be_text_is_refused_and_the_draft_comes_back(
    qtbot, configured_home: Path, tmp_path: Path
):
    fake = tmp_path / "report.txt"
    fake.write_bytes(b"PK\x03\x04\x00\x00binary")
    with open_window(qtbot) as win:
        drop(win, fake)
        type_and_send(qtbot, win, "What does the report say?")
        wait_idle(qtbot, win)
        assert items(win) == []
        assert win.composer.edit.toPlainText() == "What does the report say?"
        assert win.composer.attachments == [fake]
        assert "report.txt is not a text file" in win.composer.edit_banner.text()
    with open_store(configured_home) as store:
        assert store.conversations() == []  # nothing was stored


def test_a_quick_answer_skips_slow_tiers(qtbot, hearth_home: Path, model_file: Path):
    text = config_text(model_file, privacy="local-and-self-hosted", threshold=0.0)
    text = text.replace('models = ["server"]', 'models = ["server"]\nslow = true')
    write_user_config(hearth_home, text)
    with open_window(qtbot) as win:
        win.composer.quick.setChecked(True)
        type_and_send(qtbot, win, "Name a colour.")
        wait_for_answer(qtbot, win)
    with open_store(hearth_home) as store:
        answer = store.messages(store.conversations()[0].id)[-1]
        assert any(
            "Quick answer: skipping the slow self-hosted" in reason for reason in json.loads(answer.route)["reasons"]
        )


def test_the_privacy_selector_sets_a_new_conversations_own_policy(qtbot, configured_home: Path):
    with open_window(qtbot) as win:
        labels = [win.composer.privacy.itemText(i) for i in range(win.composer.privacy.count())]
        assert labels[0] == "App setting (Local only)" and labels[1:] == [PRIVACY_LABELS[p] for p in Privacy]
        win.composer.privacy.setCurrentIndex(2)
        win.composer.privacy.activated.emit(2)
        type_and_send(qtbot, win, "Name a colour.")
        wait_for_answer(qtbot, win)
        assert win.composer.chosen_privacy() == Privacy.SELF_HOSTED
        conversation = win.conversations.conversation_id
        win.conversations.new_conversation()
        assert win.composer.chosen_privacy() is None  # a new conversation starts with the app's setting
        win.conversations.open_conversation(conversation)
        assert win.composer.chosen_privacy() == Privacy.SELF_HOSTED
    with open_store(configured_home) as store:
        assert store.conversation(conversation).privacy == "local-and-self-hosted"
