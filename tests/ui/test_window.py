"""The desktop window on a real Qt event loop (offscreen), with the real model."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox

from app.core.errors import ConfigError
from app.ui.main import build_window, create_app
from app.ui.message_actions import MessageAction
from app.ui.settings_dialog import SettingsDialog
from app.ui.welcome import Welcome
from tests.conftest import Files, config_text, with_chat_template, write_user_config
from tests.destinations import RecordingServer
from tests.window_helpers import (
    ANSWER_TIMEOUT_MS,
    click_link,
    items,
    last,
    open_store,
    open_window,
    stored_messages,
    type_and_send,
    wait_for_answer,
    wait_idle,
)


@pytest.fixture
def window(qtbot, configured_home: Path):
    with open_window(qtbot) as win:
        yield win


def test_a_typed_message_is_answered_streamed_and_badged(qtbot, window, configured_home: Path):
    seen: list[str] = []
    type_and_send(qtbot, window, "What is the capital of France?")
    assert window.composer.stop_button.isVisible() and not window.composer.send_button.isVisible()
    window.chat.conversation.dataChanged.connect(lambda *_: seen.append(last(window).text))
    answer = wait_for_answer(qtbot, window)

    assert [i.role for i in items(window)] == ["user", "assistant"]
    assert items(window)[0].text == "What is the capital of France?"
    assert len({s for s in seen if s}) > 2, "the answer did not appear while it was written"
    assert answer.badge.tier == "local" and answer.badge.model == "smollm2-135m"
    assert answer.badge.confidence is not None and answer.badge.tokens
    tooltip = window.chat.conversation.data(window.chat.conversation.index(1), Qt.ItemDataRole.ToolTipRole)
    assert "Unsure" in tooltip or "Confident" in tooltip
    messages = stored_messages(configured_home)
    assert messages[-1].content == answer.text and messages[-1].status == "complete"
    assert window.sidebar.list.count() == 1


def test_the_window_is_usable_while_the_model_loads(qtbot, window):
    assert window.model.state.text().startswith("Loading smollm2-135m")
    qtbot.keyClicks(window.composer.edit, "typing while loading")
    assert window.composer.edit.toPlainText() == "typing while loading"
    qtbot.waitUntil(lambda: window.model.state.text().startswith("Ready"), timeout=ANSWER_TIMEOUT_MS)
    # Hovering the status says what computes; this build has one CPU backend, so no module was chosen.
    assert window.model.state.toolTip() == "llama.cpp computes on CPU, built into this copy of Hearth"


def test_shift_enter_starts_a_new_line_instead_of_sending(qtbot, window):
    qtbot.keyClicks(window.composer.edit, "first line")
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(window.composer.edit, "second line")
    assert window.composer.edit.toPlainText() == "first line\nsecond line"
    assert items(window) == []


def test_stop_keeps_the_text_so_far(qtbot, window, configured_home: Path):
    type_and_send(qtbot, window, "Tell me a very long story about a lighthouse keeper and the sea.")
    qtbot.waitUntil(lambda: len(last(window).text) > 15, timeout=ANSWER_TIMEOUT_MS)
    qtbot.mouseClick(window.composer.stop_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, window)
    assert "Stopped" in last(window).note
    stored = stored_messages(configured_home)[-1]
    assert stored.status == "incomplete" and stored.content == last(window).text


def test_the_stop_link_under_a_streaming_answer_stops_it(qtbot, window):
    type_and_send(qtbot, window, "Tell me a very long story about a lighthouse keeper and the sea.")
    qtbot.waitUntil(lambda: len(last(window).text) > 15, timeout=ANSWER_TIMEOUT_MS)
    click_link(qtbot, window, 1, MessageAction.STOP)
    wait_idle(qtbot, window)
    assert "Stopped" in last(window).note and not last(window).streaming


def test_a_past_conversation_reopens_with_its_badges(qtbot, window):
    type_and_send(qtbot, window, "Name a colour.")
    live = wait_for_answer(qtbot, window)
    assert window.chat.empty_state.isHidden()
    qtbot.mouseClick(window.sidebar.new_button, Qt.MouseButton.LeftButton)
    assert items(window) == []
    assert window.chat.empty_state.isVisible() and "on this computer first" in window.chat.empty_state.text()
    window.sidebar.list.itemClicked.emit(window.sidebar.list.item(0))
    reopened = items(window)
    assert [i.text for i in reopened] == ["Name a colour.", live.text]
    assert reopened[1].badge == live.badge  # the live badge is read from the store, as a reopened one is


def test_an_unsure_answer_is_marked_with_its_warning(qtbot, hearth_home: Path, model_file: Path):
    write_user_config(hearth_home, config_text(model_file, threshold=1.0))
    with open_window(qtbot) as win:
        type_and_send(qtbot, win, "What is the capital of France?")
        answer = wait_for_answer(qtbot, win)
        assert answer.badge.warning and answer.badge.why().startswith("Unsure answer: no tier that may be asked")


@pytest.mark.server
def test_an_escalated_answer_says_where_it_came_from_and_why(
    qtbot, hearth_home: Path, model_file: Path, llama_server: str
):
    write_user_config(
        hearth_home, config_text(model_file, privacy="local-and-self-hosted", threshold=1.0, server_url=llama_server)
    )
    with open_window(qtbot) as win:
        type_and_send(qtbot, win, "What is the capital of France?")
        answer = wait_for_answer(qtbot, win)
        assert answer.badge.escalated and answer.badge.tier == "self-hosted"
        assert "Unsure" in answer.badge.why() and "self-hosted" in answer.badge.why()
        assert answer.text and "self-hosted" in answer.note


def test_a_broken_configuration_stops_before_any_window(qtbot, hearth_home: Path, model_file: Path):
    write_user_config(hearth_home, config_text(model_file).replace("threads = 2", "threads = 'two'"))
    create_app()
    with pytest.raises(ConfigError, match="models.smollm2-135m.threads"):
        build_window()


def test_first_run_welcomes_fetches_the_model_with_progress_then_chats(
    qtbot, hearth_home: Path, model_file: Path, server
):
    """No model on disk yet: the welcome shows the download, then the user chats with zero configuration.

    The welcome is in the empty conversation, so the user can write while the model arrives; once it is
    ready no progress is left on show, and the welcome goes with the first message.
    """
    Files.files["/HuggingFaceTB/SmolLM2/resolve/main/model.gguf"] = model_file.read_bytes()
    sha = hashlib.sha256(Files.files["/HuggingFaceTB/SmolLM2/resolve/main/model.gguf"]).hexdigest()
    source = (
        f'source = {{ kind = "huggingface", repo = "HuggingFaceTB/SmolLM2", filename = "model.gguf", '
        f'endpoint = "{server}" }}\nsha256 = "{sha}"\n'
    )
    text = config_text(model_file).replace(f'file = "{model_file}"\n', 'file = "smol.gguf"\n' + source)
    write_user_config(hearth_home, text)
    with open_window(qtbot, prepare=False) as win:
        welcome = win.show_welcome()
        statuses: list[str] = []
        welcome.status.setText = lambda value, real=welcome.status.setText: (statuses.append(value), real(value))[1]
        win.model.prepare()
        qtbot.keyClicks(win.composer.edit, "Hello!")  # written while the model arrives
        assert welcome.isVisible() and welcome.progress.isVisible()
        qtbot.waitUntil(lambda: "is ready on this computer" in welcome.hint.text(), timeout=ANSWER_TIMEOUT_MS)
        assert any(s.startswith("Downloading model.gguf") for s in statuses)
        assert not welcome.status.isVisible() and not welcome.progress.isVisible()
        assert welcome.isVisible() and not win.chat.empty_state.isVisible()
        assert (hearth_home / "data" / "models" / "smol.gguf").stat().st_size == model_file.stat().st_size
        assert not (hearth_home / "data" / "welcomed").exists()
        qtbot.keyClick(win.composer.edit, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: not win.chat.viewport().findChildren(Welcome))
        assert (hearth_home / "data" / "welcomed").exists()
        assert wait_for_answer(qtbot, win).text
        win.conversations.new_conversation()
        assert win.chat.empty_state.isVisible()  # an empty conversation from now on shows the usual hint


def test_closing_the_window_mid_answer_keeps_the_text_and_raises_nothing(qtbot, configured_home: Path):
    create_app()
    win = build_window()
    qtbot.addWidget(win)
    win.show()
    type_and_send(qtbot, win, "Tell me a very long story about a lighthouse keeper and the sea.")
    qtbot.waitUntil(lambda: len(last(win).text) > 15, timeout=ANSWER_TIMEOUT_MS)
    shown = last(win).text
    win.close()
    win.session.close()
    qtbot.wait(200)  # let any late queued signal arrive; pytest-qt fails the test on an exception
    stored = stored_messages(configured_home)[-1]
    assert stored.status == "incomplete" and stored.content.startswith(shown[:15])


def test_an_answer_can_be_rated_copied_and_regenerated_by_clicking_its_links(qtbot, window, configured_home: Path):
    type_and_send(qtbot, window, "Name a colour.")
    first = wait_for_answer(qtbot, window)
    click_link(qtbot, window, 1, MessageAction.RATE_DOWN)
    with open_store(configured_home) as store:
        assert [(r["message_id"], r["rating"]) for r in store.db["feedback"].rows] == [(first.message_id, -1)]
    click_link(qtbot, window, 1, MessageAction.COPY)
    assert QApplication.clipboard().text() == first.text
    click_link(qtbot, window, 1, MessageAction.REGENERATE)
    second = wait_for_answer(qtbot, window)
    assert second.message_id != first.message_id and second.text
    assert (second.version, second.versions) == (2, 2)
    click_link(qtbot, window, 1, MessageAction.PREVIOUS_VERSION)
    assert last(window).message_id == first.message_id and last(window).text == first.text
    with open_store(configured_home) as store:
        assert [v.id for v in store.versions(first.message_id)] == [first.message_id, second.message_id]


def test_asking_a_stronger_model_under_local_only_keeps_the_answer_and_says_why(qtbot, window):
    type_and_send(qtbot, window, "Name a colour.")
    before = wait_for_answer(qtbot, window)
    said = answer_message_box("Close")
    click_link(qtbot, window, 1, MessageAction.STRONGER)  # the message box runs its own loop until answered
    wait_idle(qtbot, window)
    assert last(window).text == before.text and last(window).badge == before.badge
    text, buttons = said[0]
    assert "Not the self-hosted tier: the privacy policy 'local-only' does not allow it" in text
    assert "Privacy settings…" in buttons


def test_with_only_the_local_model_ask_a_stronger_model_offers_to_add_one(qtbot, hearth_home: Path, model_file: Path):
    text = config_text(model_file)
    local = text[text.index("[models.smollm2-135m]") : text.index("[models.server]")]
    write_user_config(hearth_home, text[: text.index("[[tiers]]")] + LOCAL_TIER + local)
    with open_window(qtbot) as win:
        type_and_send(qtbot, win, "Name a colour.")
        wait_for_answer(qtbot, win)
        opened: list[str] = []
        said = answer_message_box("Add a model…", then=lambda dialog: opened.append(tab_of(dialog)))
        click_link(qtbot, win, 1, MessageAction.STRONGER)
    text, buttons = said[0]
    assert "there is no tier above local" in text and "Add a model…" in buttons
    assert opened == ["&Models and tiers"]


def test_editing_a_message_resends_it_as_a_new_branch(qtbot, window, configured_home: Path):
    type_and_send(qtbot, window, "Name a colour.")
    wait_for_answer(qtbot, window)
    original = items(window)[0]
    window.activateWindow()
    window.chat.setFocus()
    window.chat.setCurrentIndex(window.chat.conversation.index(0))
    qtbot.keyClick(window.chat, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert window.composer.edit.toPlainText() == "Name a colour." and window.composer.edit_banner.isVisible()
    window.composer.edit.clear()
    type_and_send(qtbot, window, "Name a fruit.")
    wait_for_answer(qtbot, window)
    assert [i.text for i in items(window)][0] == "Name a fruit."
    assert (items(window)[0].version, items(window)[0].versions) == (2, 2)
    with open_store(configured_home) as store:
        assert [m.content for m in store.versions(original.message_id)] == ["Name a colour.", "Name a fruit."]
    click_link(qtbot, window, 0, MessageAction.PREVIOUS_VERSION)
    assert items(window)[0].text == "Name a colour." and len(items(window)) == 2


def test_a_model_whose_chat_template_refuses_still_answers_and_the_window_says_why(
    qtbot, hearth_home: Path, model_file: Path, tmp_path: Path
):
    refusing = with_chat_template(model_file, tmp_path, "{{ raise_exception('System role not supported') }}")
    write_user_config(hearth_home, config_text(refusing))
    with open_window(qtbot) as win:
        type_and_send(qtbot, win, "Say hello.")
        answer = wait_for_answer(qtbot, win)
        assert answer.text.strip()
        assert "ChatML" in win.statusBar().currentMessage()
        assert "System role not supported" in win.model.state.toolTip()


LOCAL_TIER = '[[tiers]]\nname = "local"\nmodels = ["smollm2-135m"]\n\n'


def tab_of(dialog: SettingsDialog) -> str:
    return dialog.tabs.tabText(dialog.tabs.currentIndex())


def answer_message_box(
    button: str, then: Callable[[SettingsDialog], None] | None = None
) -> list[tuple[str, list[str]]]:
    """Click ``button`` in the next message box; a Settings dialog it opens is passed to ``then`` and closed."""
    said: list[tuple[str, list[str]]] = []

    def answer() -> None:
        widget = QApplication.activeModalWidget()
        if isinstance(widget, QMessageBox):
            said.append((widget.text() + " " + widget.informativeText(), [b.text() for b in widget.buttons()]))
            next(b for b in widget.buttons() if b.text() == button).click()
        elif isinstance(widget, SettingsDialog) and then is not None:
            then(widget)
            widget.reject()
            return
        if not said or then is not None:
            QTimer.singleShot(20, answer)

    QTimer.singleShot(20, answer)
    return said


def test_a_server_resting_after_failures_says_so_and_can_be_tried_again_from_the_answer(
    qtbot, hearth_home: Path, model_file: Path
):
    server = RecordingServer()
    server.reset("5xx")
    text = config_text(model_file, privacy="local-and-self-hosted", threshold=0.99, server_url=server.url)
    write_user_config(hearth_home, text)
    try:
        with open_window(qtbot) as win:
            type_and_send(qtbot, win, "What is the capital of Peru?")
            answered = wait_for_answer(qtbot, win)
            assert answered.resting == ("server",) and answered.badge is not None
            assert "server failed 3 times; it rests for 60 s" in answered.badge.why()
            type_and_send(qtbot, win, "And of Chile?")
            qtbot.waitUntil(lambda: len(items(win)) == 4 and last(win).badge is not None, timeout=ANSWER_TIMEOUT_MS)
            wait_idle(qtbot, win)
            assert "server is resting for" in last(win).badge.why() and last(win).resting == ("server",)
            server.reset("answers")
            click_link(qtbot, win, 3, MessageAction.WAKE)
            qtbot.waitUntil(
                lambda: last(win).badge is not None and last(win).badge.tier == "self-hosted", timeout=ANSWER_TIMEOUT_MS
            )
            wait_idle(qtbot, win)
            assert last(win).text == "Lima is the capital." and last(win).resting == ()
        server.settle()
        assert server.connections == 1, "woken, the server was asked again, once"
    finally:
        server.close()


def test_the_welcome_fills_the_empty_conversation_at_1400_by_900(qtbot, configured_home: Path):
    """Nothing from behind it shows beside it, and none of its text is cut off."""
    with open_window(qtbot, prepare=False) as win:
        win.resize(1400, 900)
        welcome = win.show_welcome()
        qtbot.waitUntil(lambda: welcome.isVisible())
        qtbot.wait(50)  # laid out
        assert welcome.geometry() == win.chat.viewport().rect()
        assert not win.chat.empty_state.isVisible()
        for label in welcome.findChildren(QLabel):
            if label.isVisible() and label.wordWrap():
                assert label.height() >= label.heightForWidth(label.width()), f"cut off: {label.text()[:30]}"
