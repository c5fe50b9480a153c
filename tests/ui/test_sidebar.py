"""The sidebar: finding, renaming, pinning, deleting (with undo) conversations, and their privacy at a glance."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.core.storage.store import Store
from app.ui import conversation_list
from tests.window_helpers import items, open_store, open_window


def _fill(home: Path) -> dict[str, int]:
    store = Store(home / "data" / "hearth.db")
    ids = {}
    for title, question, answer in (
        ("Sourdough", "How long should sourdough proof?", "About 4 to 6 hours at room temperature."),
        ("Taxes", "When is the tax return due?", "Usually by the end of July."),
        ("Garden", "Which tomatoes grow well in pots?", "Cherry tomatoes such as Sungold."),
    ):
        conversation = store.create_conversation(title)
        store.add_message(conversation, "user", question)
        store.add_message(conversation, "assistant", answer)
        ids[title] = conversation
    store.close()
    return ids


@pytest.fixture
def filled(configured_home: Path) -> dict[str, int]:
    return _fill(configured_home)


def titles(win) -> list[str]:
    return [win.sidebar.list.item(i).text() for i in range(win.sidebar.list.count())]


def test_search_finds_a_message_in_any_conversation_and_opens_it(qtbot, filled):
    with open_window(qtbot, prepare=False) as win:
        qtbot.keyClick(win, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
        qtbot.keyClicks(win.sidebar.search, "Sungold")
        qtbot.waitUntil(lambda: win.sidebar.list.count() == 1, timeout=2_000)
        assert titles(win)[0].startswith("Garden") and "[Sungold]" in titles(win)[0]  # the snippet marks the match
        win.sidebar.list.itemClicked.emit(win.sidebar.list.item(0))
        assert win.conversations.conversation_id == filled["Garden"]
        assert win.chat.currentIndex().row() == 1 and items(win)[1].text.startswith("Cherry tomatoes")
        win.sidebar.search.clear()
        qtbot.waitUntil(lambda: win.sidebar.list.count() == 3, timeout=2_000)


def test_a_search_without_matches_says_so(qtbot, filled):
    with open_window(qtbot, prepare=False) as win:
        qtbot.keyClicks(win.sidebar.search, "zeppelin")
        qtbot.waitUntil(lambda: titles(win) == ["No message matches."], timeout=2_000)


def test_rename_pin_and_privacy_from_the_sidebar(qtbot, filled, configured_home: Path):
    with open_window(qtbot, prepare=False) as win:
        win.sidebar.list.setCurrentRow(titles(win).index("Taxes"))
        qtbot.keyClick(win.sidebar.list, Qt.Key.Key_F2)
        dialog = win.sidebar.rename_dialog
        assert dialog is not None and dialog.textValue() == "Taxes"
        dialog.setTextValue("Tax return 2026")
        dialog.accept()
        assert "Tax return 2026" in titles(win)
        win.sidebar.list.setCurrentRow(titles(win).index("Tax return 2026"))
        win.sidebar.toggle_pin_current()
        assert titles(win)[0] == "★ Tax return 2026"
        win.sidebar.privacy_requested.emit(filled["Taxes"], conversation_list.Privacy.LOCAL_ONLY)
        assert "Local only (this conversation's own setting)" in win.sidebar.list.item(0).toolTip()
        assert "(the app's setting)" in win.sidebar.list.item(1).toolTip()
    with open_store(configured_home) as store:
        row = store.conversation(filled["Taxes"])
        assert (row.title, row.pinned, row.privacy) == ("Tax return 2026", True, "local-only")


def test_a_deleted_conversation_can_be_brought_back_until_the_undo_bar_goes(qtbot, filled, configured_home: Path):
    with open_window(qtbot, prepare=False) as win:
        win.conversations.open_conversation(filled["Garden"])
        win.sidebar.list.setCurrentRow(titles(win).index("Garden"))
        qtbot.keyClick(win.sidebar.list, Qt.Key.Key_Delete)
        assert "Garden" not in titles(win) and win.sidebar.undo_bar.isVisible()
        assert win.conversations.conversation_id is None and items(win) == []  # the open conversation closed with it
        qtbot.mouseClick(win.sidebar.undo_button, Qt.MouseButton.LeftButton)
        assert "Garden" in titles(win) and win.sidebar.undo_bar.isHidden()

        win.sidebar.list.setCurrentRow(titles(win).index("Sourdough"))
        win.sidebar.delete_current()
        win.sidebar.commit_delete()  # what the undo timer does when it runs out
        assert "Sourdough" not in titles(win)
    with open_store(configured_home) as store:
        assert sorted(c.title for c in store.conversations()) == ["Garden", "Taxes"]
        assert store.search("sourdough") == []


def test_a_pending_deletion_is_carried_out_when_the_window_closes(qtbot, filled, configured_home: Path):
    with open_window(qtbot, prepare=False) as win:
        win.sidebar.list.setCurrentRow(titles(win).index("Taxes"))
        win.sidebar.delete_current()
    with open_store(configured_home) as store:
        assert "Taxes" not in [c.title for c in store.conversations()]


def test_thousands_of_conversations_list_at_once(qtbot, configured_home: Path):
    store = Store(configured_home / "data" / "hearth.db")
    with store.db.atomic():
        for number in range(5_000):
            store.create_conversation(f"Conversation {number}")
    store.close()
    with open_window(qtbot, prepare=False) as win:
        assert win.sidebar.list.count() == 5_000
        assert win.sidebar.list.uniformItemSizes()
