"""Plan mode in the window: the composer's switch, and the plan drawn live as its steps run."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QInputDialog

from app.core.conversation.teamwork.steps import step_of, stored_plan
from app.ui.plan_panel import COLUMNS, STATE
from tests.conftest import config_text, write_user_config
from tests.window_helpers import open_store, open_window, type_and_send, wait_idle

PLAN_TIMEOUT_MS = 480_000  # a planner, two parts and a synthesis on a busy machine
MODEL, TIER = COLUMNS.index("Model"), COLUMNS.index("Tier")


def test_the_plan_switch_sends_in_plan_mode_and_each_step_is_drawn(
    qtbot, hearth_home: Path, model_file: Path, monkeypatch
):
    write_user_config(hearth_home, config_text(model_file, max_answer_tokens=16))
    with open_window(qtbot) as win:
        panel = win.plan_panel
        assert panel.isHidden()  # nothing to draw until a plan runs
        win.composer.plan.setChecked(True)
        type_and_send(qtbot, win, "Summarise this: the app is slow. Then write a short reply e-mail.")
        qtbot.waitUntil(lambda: panel.isVisible(), timeout=PLAN_TIMEOUT_MS)
        qtbot.waitUntil(lambda: win.composer.send_button.isVisible(), timeout=PLAN_TIMEOUT_MS)
        rows = [panel.tree.topLevelItem(i) for i in range(panel.tree.topLevelItemCount())]
        names = [row.text(0) for row in rows]
        assert names[0] == "Planner" and names[-1] == "Synthesis" and len(rows) >= 4
        assert all(row.text(MODEL) == "smollm2-135m" and row.text(TIER) == "local" for row in rows)
        assert all(row.text(STATE) == "done" for row in rows), [row.text(STATE) for row in rows]
        first_part = rows[1].child(0).text(0)
        assert first_part.startswith("Asks: ") and "\nWrote: " in first_part
        assert panel.title.text().startswith("Plan by the ")
        answer = win.chat.conversation.item(win.chat.conversation.rowCount() - 1)
        assert answer.badge is not None and not answer.badge.escalated  # every step stayed local
        store = open_store(hearth_home)
        try:
            stored = store.message(answer.message_id)
            assert stored.content == answer.text and stored.status == "complete"
            before = len(store.attempts(stored.id))
        finally:
            store.close()

        # Re-run part 1 alone: its new attempt and a new synthesis follow the earlier ones.
        panel.tree.setCurrentItem(rows[1])
        assert panel.rerun_button.isEnabled()
        panel.rerun_button.click()
        assert not win.composer.send_button.isVisible() and not panel.rerun_button.isEnabled()
        qtbot.waitUntil(lambda: win.composer.send_button.isVisible(), timeout=PLAN_TIMEOUT_MS)
        store = open_store(hearth_home)
        try:
            again = store.attempts(answer.message_id)[before:]
            steps = [step_of(row) for row in again]
            assert [(s.role, s.number) for s in steps if s] == [("part", 1), ("synthesis", None)]
            assert all(row.trigger == "user" for row in again)
            before = len(store.attempts(answer.message_id))
        finally:
            store.close()

        # Edit part 2: it runs again asking the new text, and the plan reads back edited.
        monkeypatch.setattr(QInputDialog, "getMultiLineText", lambda *_args: ("Write a two-word reply.", True))
        panel.tree.setCurrentItem(panel.rows[2])
        assert panel.edit_button.isEnabled()
        panel.edit_button.click()
        qtbot.waitUntil(lambda: win.composer.send_button.isVisible(), timeout=PLAN_TIMEOUT_MS)
        store = open_store(hearth_home)
        try:
            rows = store.attempts(answer.message_id)
            again = [step_of(row) for row in rows[before:]]
            assert [(s.role, s.number, s.text) for s in again if s][0] == ("part", 2, "Write a two-word reply.")
            plan = stored_plan(rows, "")
            assert plan is not None and plan.parts[1].text == "Write a two-word reply."
        finally:
            store.close()
        assert panel.title.text().startswith("Plan by you, edited")


def test_a_message_without_the_switch_draws_no_plan(qtbot, configured_home: Path):
    with open_window(qtbot) as win:
        type_and_send(qtbot, win, "Hello!")
        wait_idle(qtbot, win)
        assert win.plan_panel.isHidden() and win.plan_panel.tree.topLevelItemCount() == 0


def test_a_long_note_on_the_plan_wraps_instead_of_widening_the_window(qtbot):
    from app.core.conversation.teamwork.events import PlanReady
    from app.core.conversation.teamwork.plans import split_request
    from app.ui.plan_panel import PlanPanel

    panel = PlanPanel()
    qtbot.addWidget(panel)
    narrow = panel.minimumSizeHint().width()
    panel.take(PlanReady(split_request("Summarise the notes, then draft a reply", "why the rules cut it " * 20)))
    assert panel.title.text().endswith("why the rules cut it ") and panel.minimumSizeHint().width() <= max(narrow, 600)
