"""``hearth --self-test``: does this installation work, end to end?

Run by installers' smoke tests and by support ("run Hearth with --self-test and
send us what it prints"). It starts like a fresh install: an empty temporary
home with the default configuration, so the user's conversations and settings
are neither read nor touched. It opens the window, loads the default model
(the installer's copy, the user's copy, or a download, in that order), answers
one prompt through the window, checks what the database kept, and prints one
JSON object. Exit 0 means every step passed.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psutil
from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer
from PySide6.QtWidgets import QApplication

from app import __version__
from app.core.config.load import default_config_file, load_config_file
from app.core.config.schema import LocalModel
from app.core.models.fetch import SHIPPED_MODELS, installed_model_file
from app.core.paths import HOME_ENV, user_paths
from app.core.providers.llama_backends import ensure_loaded as backends
from app.core.storage import backups
from app.core.storage.store import Store
from app.ui.composer import Draft
from app.ui.main import build_window, create_app

PROMPT = "In one short sentence: what colour is a clear daytime sky?"


class SelfTestFailed(Exception):
    pass


def seconds_since_launch() -> float:
    """How long this process has existed, the frozen program's unpacking and imports included."""
    if sys.platform.startswith("linux"):
        # psutil's start time is whole seconds after boot plus ticks: off by up to a second.
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22, starttime, in ticks after boot
        return time.clock_gettime(time.CLOCK_BOOTTIME) - started
    return time.time() - psutil.Process().create_time()


class _FirstPaint(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.age: float | None = None

    def eventFilter(self, _watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt naming)
        if event.type() == QEvent.Type.Paint and self.age is None:
            self.age = seconds_since_launch()
        return False


def _wait(what: str, condition: Callable[[], bool], timeout_s: float) -> None:
    loop = QEventLoop()
    poll = QTimer(interval=20)
    poll.timeout.connect(lambda: condition() and loop.quit())
    deadline = QTimer(singleShot=True, interval=int(timeout_s * 1000))
    deadline.timeout.connect(loop.quit)
    poll.start()
    deadline.start()
    if not condition():
        loop.exec()
    poll.stop()
    deadline.stop()
    if not condition():
        raise SelfTestFailed(f"timed out after {timeout_s:.0f} s waiting for {what}")


def _borrow_default_model(models: Path) -> None:
    """Let the temporary home use the user's copy of the default model, if there is one."""
    config = load_config_file(default_config_file())
    model = config.models[config.tiers[0].models[0]]
    if isinstance(model, LocalModel) and not Path(model.file).is_absolute():
        own = user_paths().models / model.file
        if own.is_file():
            models.mkdir(parents=True, exist_ok=True)
            (models / model.file).symlink_to(own)


def run_self_test(timeout_s: float = 600.0) -> int:
    report: dict[str, object] = {"ok": False, "version": __version__}
    with tempfile.TemporaryDirectory(prefix="hearth-self-test-") as home:
        try:
            _borrow_default_model(Path(home) / "data" / "models")
            os.environ[HOME_ENV] = home
            report.update(_exercise(timeout_s))
            report["ok"] = True
        except Exception as exc:  # noqa: BLE001 - every failure is the report's subject
            report["error"] = f"{type(exc).__name__}: {exc}"
    print(json.dumps(report), flush=True)
    return 0 if report["ok"] else 1


def _exercise(timeout_s: float) -> dict[str, object]:
    app = create_app()
    window = build_window()
    painted = _FirstPaint()
    window.installEventFilter(painted)
    window.show()
    try:
        _wait("the window to appear", lambda: painted.age is not None, 60)
        assert painted.age is not None
        result: dict[str, object] = {
            "platform": QApplication.platformName(),
            "launch_to_window_s": round(painted.age, 3),
        }
        ready: list[tuple[bool, str]] = []
        window.model.ready_changed.connect(lambda ok, detail: ready.append((ok, detail)))
        started = time.monotonic()
        window.model.prepare()
        _wait("the default model to load", lambda: bool(ready), timeout_s)
        if not ready[0][0]:
            raise SelfTestFailed(f"the default model did not load: {ready[0][1]}")
        result["model"] = ready[0][1]
        model = window.session.config.models[ready[0][1]]
        assert isinstance(model, LocalModel)
        file = installed_model_file(model, window.session.paths.models)
        result["model_file"] = str(file.resolve())
        shipped, borrowed = file.parent == SHIPPED_MODELS, file.is_symlink()
        result["model_came_from"] = (
            "the installation" if shipped else "your models folder" if borrowed else "a download"
        )
        result["model_load_s"] = round(time.monotonic() - started, 3)
        result["llama_backends"] = backends().describe()
        cpu = backends().cpu
        result["cpu_modules"] = cpu.report() if cpu else None  # None: one CPU backend is linked in

        started = time.monotonic()
        window.answers.send(Draft(PROMPT))
        _wait("the answer", lambda: window.composer.send_button.isVisible(), timeout_s)
        result["answer_s"] = round(time.monotonic() - started, 3)
        result.update(_check_database(window.session.paths.database))
        app.processEvents()
        return result
    finally:
        window.close()
        window.session.close()


def _check_database(database: Path) -> dict[str, object]:
    problem = backups.check(database)
    if problem is not None:
        raise SelfTestFailed(f"the database failed its integrity check: {problem}")
    with Store(database) as store:
        rows = sorted((m for c in store.conversations() for m in store.messages(c.id)), key=lambda m: m.id)
        attempts = store.attempts(rows[1].id) if len(rows) > 1 else []
    if [row.role for row in rows] != ["user", "assistant"] or rows[0].content != PROMPT:
        raise SelfTestFailed(f"the database holds {len(rows)} messages instead of the prompt and its answer")
    answer, status = rows[1].content, rows[1].status
    if not answer.strip() or status != "complete":
        raise SelfTestFailed(f"the answer was not kept (status {status!r}, {len(answer)} characters)")
    return {
        "answer": answer,
        "tier": attempts[0].tier,
        "answered_by": attempts[0].model,
        "confidence": attempts[0].confidence,
        "database": {"path": str(database), "integrity": "ok", "messages": len(rows)},
    }
