"""The desktop window on a real Qt event loop (offscreen), with the real model."""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QThreadPool

from app.core.errors import ConfigError
from app.core.store import Store
from app.ui.main import build_window, create_app
from tests.conftest import Files, config_text, write_user_config

ANSWER_TIMEOUT_MS = 120_000


@pytest.fixture
def window(qtbot, configured_home: Path):
    create_app()
    win = build_window()
    qtbot.addWidget(win)
    win.show()
    win.prepare_model()
    yield win
    win.close()
    win.session.close()
    assert QThreadPool.globalInstance().waitForDone(30_000), "a worker thread was left running"


@contextmanager
def own_window(qtbot):
    """A window for a test that wrote its own models.toml first."""
    create_app()
    win = build_window()
    qtbot.addWidget(win)
    win.show()
    try:
        yield win
    finally:
        win.close()
        win.session.close()


def type_and_send(qtbot, win, text: str) -> None:
    qtbot.keyClicks(win.composer.edit, text)
    qtbot.keyClick(win.composer.edit, Qt.Key.Key_Return)


def stored_messages(home: Path):
    store = Store(home / "data" / "hearth.db")
    try:
        return store.messages(store.conversations()[0].id)
    finally:
        store.close()


def test_a_typed_message_is_answered_streamed_and_badged(qtbot, window, configured_home: Path):
    streamed: list[str] = []
    type_and_send(qtbot, window, "What is the capital of France?")
    assert window.composer.stop_button.isVisible() and not window.composer.send_button.isVisible()
    answer = window.chat.bubbles()[-1]
    window._worker.signals.item.connect(lambda e: streamed.append(answer.content))
    qtbot.waitUntil(lambda: answer.badge.isVisible(), timeout=ANSWER_TIMEOUT_MS)

    bubbles = window.chat.bubbles()
    assert [b.role for b in bubbles] == ["user", "assistant"]
    assert bubbles[0].content == "What is the capital of France?"
    assert len({s for s in streamed if s}) > 3, "the answer did not appear token by token"
    badge = answer.badge.label.text()
    assert "local" in badge and "smollm2-135m" in badge and "confidence" in badge
    assert "Unsure" in answer.badge.toolTip() or "Confident" in answer.badge.toolTip()
    messages = stored_messages(configured_home)
    assert messages[-1].content == answer.content and messages[-1].status == "complete"
    qtbot.waitUntil(lambda: window.composer.send_button.isVisible())
    assert window.sidebar.list.count() == 1


def test_the_window_is_usable_while_the_model_loads(qtbot, window):
    assert window.model_state.text().startswith("Loading smollm2-135m")
    qtbot.keyClicks(window.composer.edit, "typing while loading")
    assert window.composer.edit.toPlainText() == "typing while loading"
    qtbot.waitUntil(lambda: window.model_state.text().startswith("Ready"), timeout=ANSWER_TIMEOUT_MS)


def test_shift_enter_starts_a_new_line_instead_of_sending(qtbot, window):
    qtbot.keyClicks(window.composer.edit, "first line")
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(window.composer.edit, "second line")
    assert window.composer.edit.toPlainText() == "first line\nsecond line"
    assert window.chat.bubbles() == []


def test_stop_keeps_the_text_so_far(qtbot, window, configured_home: Path):
    type_and_send(qtbot, window, "Tell me a very long story about a lighthouse keeper and the sea.")
    answer = window.chat.bubbles()[-1]
    qtbot.waitUntil(lambda: len(answer.content) > 15, timeout=ANSWER_TIMEOUT_MS)
    qtbot.mouseClick(window.composer.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.composer.send_button.isVisible(), timeout=ANSWER_TIMEOUT_MS)
    assert "Stopped" in answer.note.text()
    stored = stored_messages(configured_home)[-1]
    assert stored.status == "incomplete" and stored.content == answer.content


def test_a_past_conversation_reopens_with_its_badges(qtbot, window):
    type_and_send(qtbot, window, "Name a colour.")
    qtbot.waitUntil(lambda: window.composer.send_button.isVisible(), timeout=ANSWER_TIMEOUT_MS)
    first_answer = window.chat.bubbles()[-1].content
    live_badge = window.chat.bubbles()[-1].badge
    live_text, live_tip = live_badge.label.text(), live_badge.toolTip()
    assert window.chat.empty_state.isHidden()
    qtbot.mouseClick(window.sidebar.new_button, Qt.MouseButton.LeftButton)
    assert window.chat.bubbles() == []
    assert window.chat.empty_state.isVisible() and "on this computer first" in window.chat.empty_state.text()
    item = window.sidebar.list.item(0)
    window.sidebar.list.itemClicked.emit(item)
    bubbles = window.chat.bubbles()
    assert [b.content for b in bubbles] == ["Name a colour.", first_answer]
    reopened = bubbles[1].badge
    # Same model, tier, confidence and warning as when it was answered (latency: the attempt's own).
    assert reopened.label.text().split(" · ")[:4] == live_text.split(" · ")[:4]
    assert "smollm2-135m" in reopened.label.text()
    assert ("⚠ unsure" in reopened.label.text()) == ("⚠ unsure" in live_text)
    assert ("Unsure answer" in reopened.toolTip()) == ("Unsure answer" in live_tip)


def test_an_unsure_answer_is_marked_with_its_warning(qtbot, hearth_home: Path, model_file: Path):
    write_user_config(hearth_home, config_text(model_file, threshold=1.0))
    with own_window(qtbot) as win:
        type_and_send(qtbot, win, "What is the capital of France?")
        answer = win.chat.bubbles()[-1]
        qtbot.waitUntil(lambda: answer.badge.isVisible(), timeout=ANSWER_TIMEOUT_MS)
        assert answer.badge.label.text().startswith("⚠ unsure · local")
        assert answer.badge.toolTip().startswith("Unsure answer: no tier that may be asked reached")


@pytest.mark.server
def test_an_escalated_answer_says_where_it_came_from_and_why(
    qtbot, hearth_home: Path, model_file: Path, llama_server: str
):
    write_user_config(
        hearth_home, config_text(model_file, privacy="local-and-self-hosted", threshold=1.0, server_url=llama_server)
    )
    with own_window(qtbot) as win:
        type_and_send(qtbot, win, "What is the capital of France?")
        answer = win.chat.bubbles()[-1]
        qtbot.waitUntil(lambda: answer.badge.isVisible(), timeout=ANSWER_TIMEOUT_MS)
        assert "escalated" in answer.badge.label.text() and "self-hosted" in answer.badge.label.text()
        assert "Unsure" in answer.badge.toolTip() and "self-hosted" in answer.badge.toolTip()
        assert answer.content


def test_a_broken_configuration_stops_before_any_window(qtbot, hearth_home: Path, model_file: Path):
    write_user_config(hearth_home, config_text(model_file).replace("threads = 2", "threads = 'two'"))
    create_app()
    with pytest.raises(ConfigError, match="models.smollm2-135m.threads"):
        build_window()


def test_first_run_fetches_the_model_with_progress_then_chats(qtbot, hearth_home: Path, model_file: Path, server):
    """No model on disk yet: the window shows the download, verifies it, loads it, and answers."""
    Files.files["/HuggingFaceTB/SmolLM2/resolve/main/model.gguf"] = model_file.read_bytes()
    sha = hashlib.sha256(Files.files["/HuggingFaceTB/SmolLM2/resolve/main/model.gguf"]).hexdigest()
    source = (
        f'source = {{ kind = "huggingface", repo = "HuggingFaceTB/SmolLM2", filename = "model.gguf", '
        f'endpoint = "{server}" }}\nsha256 = "{sha}"\n'
    )
    text = config_text(model_file).replace(f'file = "{model_file}"\n', 'file = "smol.gguf"\n' + source)
    write_user_config(hearth_home, text)
    create_app()
    win = build_window()
    qtbot.addWidget(win)
    win.show()
    states: list[str] = []
    win.model_state.setText = lambda value, real=win.model_state.setText: (states.append(value), real(value))[1]
    try:
        win.prepare_model()
        qtbot.waitUntil(lambda: win.model_state.text().startswith("Ready"), timeout=ANSWER_TIMEOUT_MS)
        assert any(state.startswith("Downloading model.gguf") for state in states)
        assert any(state.startswith("Verifying") for state in states)
        assert (hearth_home / "data" / "models" / "smol.gguf").stat().st_size == model_file.stat().st_size
        type_and_send(qtbot, win, "Hello!")
        answer = win.chat.bubbles()[-1]
        qtbot.waitUntil(lambda: answer.badge.isVisible(), timeout=ANSWER_TIMEOUT_MS)
        assert answer.content
    finally:
        win.close()
        win.session.close()


def test_closing_the_window_mid_answer_keeps_the_text_and_raises_nothing(qtbot, configured_home: Path):
    create_app()
    win = build_window()
    qtbot.addWidget(win)
    win.show()
    type_and_send(qtbot, win, "Tell me a very long story about a lighthouse keeper and the sea.")
    answer = win.chat.bubbles()[-1]
    qtbot.waitUntil(lambda: len(answer.content) > 15, timeout=ANSWER_TIMEOUT_MS)
    win.close()
    win.session.close()
    qtbot.wait(200)  # let any late queued signal arrive; pytest-qt fails the test on an exception
    stored = stored_messages(configured_home)[-1]
    assert stored.status == "incomplete" and stored.content.startswith(answer.content[:15])


def test_an_answer_can_be_rated_and_regenerated_from_the_window(qtbot, window, configured_home: Path):
    type_and_send(qtbot, window, "Name a colour.")
    answer = window.chat.bubbles()[-1]
    qtbot.waitUntil(lambda: window.composer.send_button.isVisible(), timeout=ANSWER_TIMEOUT_MS)
    first_id = answer.message_id
    qtbot.mouseClick(answer.badge.thumbs_down, Qt.MouseButton.LeftButton)
    store = Store(configured_home / "data" / "hearth.db")
    try:
        assert [(r["message_id"], r["rating"]) for r in store.db["feedback"].rows] == [(first_id, -1)]
    finally:
        store.close()
    qtbot.mouseClick(answer.badge.regenerate, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: window.composer.send_button.isVisible() and answer.badge.isVisible(), timeout=ANSWER_TIMEOUT_MS
    )
    assert answer.message_id != first_id and answer.content
    store = Store(configured_home / "data" / "hearth.db")
    try:
        assert [v.id for v in store.versions(first_id)] == [first_id, answer.message_id]
    finally:
        store.close()


def test_asking_a_stronger_model_under_local_only_keeps_the_answer_and_says_why(qtbot, window):
    type_and_send(qtbot, window, "Name a colour.")
    answer = window.chat.bubbles()[-1]
    qtbot.waitUntil(lambda: window.composer.send_button.isVisible(), timeout=ANSWER_TIMEOUT_MS)
    before = answer.content
    qtbot.mouseClick(answer.badge.stronger, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.composer.send_button.isVisible(), timeout=ANSWER_TIMEOUT_MS)
    assert answer.content == before and answer.badge.isVisible()
    assert "privacy policy 'local-only' does not allow it" in answer.note.text()
