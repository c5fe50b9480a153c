"""Hostile text shown by the real window: the rendering rows of bench/faults.py.

Each case runs in a child process of its own (offscreen, memory capped), so a
case that crashes the window or hangs it counts as not survived and the others
still run. A case survives when the window showed the text and went on, nothing
it named was opened (a FIFO counts whoever opens it, a magenta photo must not
be on screen), no action ran, and every stored message is as it was before
(anything else counts as data lost, in characters).

    .venv/bin/python -m bench.hostile_rendering               (these rows alone, as a table)
    .venv/bin/python -m bench.hostile_rendering CASE HOME     (one case; prints one JSON line)
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MEMORY_CAP = 6 << 30
CASE_TIMEOUT_S = 180

IMAGE_CASES = ("/dev/zero", "a FIFO", "a local photo", "../..", "a //host/share path")
LINK_CASES = ("action:stronger", "action:up", "action:down", "copy:0", "version:next")
LARGE_CASES = ("code", "word", "prose")


def rendering_rows(model: Path) -> list[dict[str, object]]:
    """One row per kind of hostile text: every case in its own child process."""
    rows = []
    for kind in KINDS.values():
        survived = lost = 0
        notes = []
        for case in kind.cases:
            outcome = _run_case(case, model)
            survived += bool(outcome.get("survived"))
            lost += int(outcome.get("lost", 0))
            if not outcome.get("survived"):
                notes.append(f"{case}: {outcome.get('note', '')}"[:200])
        rows.append(
            {
                "fault": f"rendering: {kind.fault}",
                "injected": len(kind.cases),
                "survived": survived,
                "data_lost": lost,
                "note": "; ".join(notes) or ", ".join(kind.cases),
            }
        )
    return rows


def _run_case(case: str, model: Path) -> dict[str, object]:
    from tests.conftest import config_text, write_user_config

    home = Path(tempfile.mkdtemp(prefix="hearth-bench-render-"))
    write_user_config(home, config_text(model))
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HEARTH_HOME": str(home)}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bench.hostile_rendering", case, str(home)],
            env=env,
            capture_output=True,
            text=True,
            timeout=CASE_TIMEOUT_S,
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP)),
        )
    except subprocess.TimeoutExpired:
        return {"survived": False, "note": f"no answer after {CASE_TIMEOUT_S} s (hung)"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        return {"survived": False, "note": f"exit {done.returncode}: {done.stderr[-160:]}"}
    return json.loads(lines[-1])


# In the child
def _case(case: str, home: Path) -> dict[str, object]:
    from app.ui.main import build_window, create_app
    from tests.render_helpers import FifoWatch

    create_app()
    folder = Path(tempfile.mkdtemp(prefix="hearth-bench-hostile-"))
    with FifoWatch(folder / "named.png") as fifo:
        kind = next(kind for kind in KINDS.values() if case in kind.cases)
        conversation = kind.prepare(case, home, folder, fifo.path)
        before = _stored(home)
        window = build_window()
        window.show()
        try:
            survived, note = kind.check(case, window, conversation, folder)
        finally:
            window.close()
            window.session.close()
        opened = fifo.opened
    after = _stored(home)
    lost = sum(len(text) for key, text in before.items() if after.get(key) != text)
    survived = survived and opened == 0 and lost == 0
    return {"survived": survived, "lost": lost, "note": note or (f"opened the FIFO {opened} times" if opened else "")}


def _stored(home: Path) -> dict[tuple[int, int], str]:
    from app.core.storage.store import Store

    store = Store(home / "data" / "hearth.db")
    try:
        return {(c.id, m.id): m.content for c in store.conversations() for m in store.messages(c.id)}
    finally:
        store.close()


def _image_source(case: str, folder: Path, fifo: Path) -> str:
    from tests.render_helpers import magenta_png

    if case == "/dev/zero":
        return "/dev/zero"
    if case == "a FIFO":
        return str(fifo)
    if case == "a //host/share path":
        return "//" + str(fifo).lstrip("/")
    photo = magenta_png(folder / "photo.png")
    return str(photo) if case == "a local photo" else os.path.relpath(photo, Path.cwd())


def _prepare_answer(case: str, home: Path, folder: Path, fifo: Path) -> int:
    from tests.answer_server import large_answer
    from tests.render_helpers import conversation_with

    if case in LARGE_CASES:
        return conversation_with(home, large_answer(case, 5_000_000))
    if case in LINK_CASES:
        return conversation_with(home, f"[Show sources]({case})\n\n```python\nprint('hi')\n```")
    if case not in IMAGE_CASES:
        return conversation_with(home, "Fine.")
    return conversation_with(home, f"Here:\n\n![a photo]({_image_source(case, folder, fifo)})")


def _check_image(case: str, window: Any, conversation: int, _folder: Path) -> tuple[bool, str]:
    from tests.render_helpers import shows_magenta

    shown = []
    for _ in range(2):  # opened, then opened again
        window.conversations.open_conversation(conversation)
        shown.append(not shows_magenta(window.chat.viewport().grab().toImage()))
        window.conversations.new_conversation()
    return all(shown), "" if all(shown) else "the photo appeared"


def _check_link(case: str, window: Any, conversation: int, _folder: Path) -> tuple[bool, str]:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from app.core.storage.store import Store
    from app.ui.message_actions import MessageAction
    from tests.window_helpers import link_point

    window.conversations.open_conversation(conversation)
    point = link_point(window, 1, MessageAction.OPEN_LINK, case)
    QTest.mouseClick(window.chat.viewport(), Qt.MouseButton.LeftButton, pos=point)
    store = Store(window.session.paths.database)
    try:
        rated = list(store.db["feedback"].rows)
    finally:
        store.close()
    idle = window.composer.send_button.isVisible() and window.chat.conversation.rowCount() == 2
    refused = "Not opened" in window.statusBar().currentMessage()
    return not rated and idle and refused, "" if refused else "the link ran an action"


def _check_consent(_case: str, window: Any, _conversation: int, _folder: Path) -> tuple[bool, str]:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QTextDocument
    from PySide6.QtWidgets import QLabel

    from app.core.config.schema import Location
    from app.core.privacy.gate import ConsentRequest
    from app.core.providers.base import Message
    from app.ui.consent import ConsentDialog

    crafted = "gpt-4o at https://api.openai.com/v1</b>). It is free.<!-- \u202e"
    destination = f"{crafted} at https://collector.example.net/v1"
    address = "https://collector.example.net/v1"
    request = ConsentRequest("work", Location.CLOUD, destination, address, "cloud", [Message("user", "x")], 0.0)
    dialog = ConsentDialog(request, window)
    seen = []
    for label in dialog.findChildren(QLabel):
        if label.textFormat() == Qt.TextFormat.PlainText:
            seen.append(label.text())
        else:
            document = QTextDocument()
            document.setHtml(label.text().replace("<img", "<nothing"))
            seen.append(document.toPlainText())
    dialog.close()
    text = " ".join(seen)
    shown = "collector.example.net" in text and "names and addresses are not" in text
    return shown, "" if shown else "the destination or the notice was hidden"


def _prepare_named(case: str, home: Path, folder: Path, fifo: Path) -> int:
    from tests.render_helpers import conversation_with

    hostile = f'<img src="{fifo}">'
    if case == "title":
        return conversation_with(home, "Fine.", title=hostile)
    document = {"format": hostile, "version": 1, "exported_at": "now", "conversations": []}
    (folder / "export.json").write_text(json.dumps(document))
    return conversation_with(home, "Fine.")


def _check_named(case: str, window: Any, _conversation: int, folder: Path) -> tuple[bool, str]:
    from PySide6.QtCore import QEvent, QTimer
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

    if case == "title":
        sidebar = window.sidebar.list
        point = sidebar.visualItemRect(sidebar.item(0)).center()
        QApplication.sendEvent(
            sidebar.viewport(), QHelpEvent(QEvent.Type.ToolTip, point, sidebar.viewport().mapToGlobal(point))
        )
        sidebar.setCurrentRow(0)
        window.sidebar.delete_current()
        window.sidebar.undo_label.grab()
        window.sidebar.undo_delete()
        return True, ""
    QFileDialog.getOpenFileName = staticmethod(lambda *_a, **_k: (str(folder / "export.json"), ""))

    def close_the_box() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            box.done(0)
        else:
            QTimer.singleShot(50, close_the_box)

    QTimer.singleShot(50, close_the_box)
    window.conversations.import_conversations()
    return True, ""


def _check_large(case: str, window: Any, conversation: int, _folder: Path) -> tuple[bool, str]:
    from PySide6.QtWidgets import QApplication

    from app.ui.message_pieces import SHOWN_MAX
    from app.ui.text_viewer import TextViewer

    window.conversations.open_conversation(conversation)
    window.chat.viewport().grab()
    item = window.chat.conversation.item(1)
    layout = window.chat.delegate.layout(item, window.chat.viewport().width(), window.chat.font())
    while not layout.complete:  # laid out over a few turns of the event loop
        QApplication.processEvents()
        layout = window.chat.delegate.layout(item, window.chat.viewport().width(), window.chat.font())
    drawn = sum(len(piece.document.toPlainText()) for piece in layout.body)
    viewer = TextViewer(item.text, window)
    while not viewer.filled():
        QApplication.processEvents()
    whole = viewer.view.toPlainText().replace("\n", "") == item.text.replace("\n", "")
    viewer.close()
    ok = drawn <= 2 * SHOWN_MAX and whole
    return ok, "" if ok else f"drew {drawn:,} characters; viewer whole: {whole}"


Prepare = Callable[[str, Path, Path, Path], int]
Check = Callable[[str, Any, int, Path], tuple[bool, str]]


@dataclass(frozen=True)
class Kind:
    fault: str
    cases: tuple[str, ...]
    prepare: Prepare
    check: Check


KINDS = {
    "image": Kind("answer image naming a file", IMAGE_CASES, _prepare_answer, _check_image),
    "link": Kind("answer link forging an action", LINK_CASES, _prepare_answer, _check_link),
    "consent": Kind("crafted model name in consent", ("crafted model",), _prepare_answer, _check_consent),
    "named": Kind("title or import field naming a FIFO", ("title", "import format"), _prepare_named, _check_named),
    "large": Kind("5 MB answer opened", LARGE_CASES, _prepare_answer, _check_large),
}


def main() -> None:
    if len(sys.argv) == 3:
        print(json.dumps(_case(sys.argv[1], Path(sys.argv[2]))), flush=True)
        return
    from tests.conftest import fetch_test_model

    for row in rendering_rows(fetch_test_model()):
        counts = f"{row['injected']:>3} injected {row['survived']:>3} survived {row['data_lost']:>3} lost"
        print(f"{row['fault']:<55} {counts}")
        print(f"    {row['note']}")


if __name__ == "__main__":
    main()
