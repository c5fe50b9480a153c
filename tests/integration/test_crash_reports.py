"""Crash reports stay on this computer, carry no keys or personal details, and are offered at the next start."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from app.core.paths import user_paths
from app.core.system import crash_reports
from app.ui.crash_offer import offer_crash_reports
from tests.conftest import REPO
from tests.window_helpers import open_window

PLANTED = "sk-PLANTED-crash-3c2b1a0f9e8d"
CRASHING = """
import os, threading
from app.core.system import crash_reports
from app.core.config import keys
from app.core.paths import user_paths
paths = user_paths()
crash_reports.install(paths.data, lambda: keys.known_secrets(paths), lambda path: print("report:", path))
{crash}
"""


def run_crashing(crash: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", CRASHING.format(crash=textwrap.dedent(crash))],
        env={**os.environ, "HEARTH_HOME": str(home), "HEARTH_KEY_HOME": PLANTED},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_an_unexpected_error_writes_a_local_report_without_keys_or_personal_details(hearth_home: Path):
    done = run_crashing(
        "raise RuntimeError(f\"boom with {os.environ['HEARTH_KEY_HOME']} for alice@example.org, +44 20 7946 0958\")",
        hearth_home,
    )
    assert done.returncode == 1 and "report:" in done.stdout
    (report,) = crash_reports.pending(user_paths().data)
    text = report.read_text(encoding="utf-8")
    assert "RuntimeError: boom with [key removed] for [EMAIL_1], [PHONE_1]" in text
    assert "Traceback" in text and "Hearth 0.1.0" in text
    assert PLANTED not in text and "alice@example.org" not in text and "7946" not in text


def test_an_error_in_a_background_thread_is_reported_too(hearth_home: Path):
    done = run_crashing(
        """
        def work():
            raise ValueError("the summary worker failed")
        thread = threading.Thread(target=work, name="summary")
        thread.start()
        thread.join()
        """,
        hearth_home,
    )
    assert "report:" in done.stdout
    (report,) = crash_reports.pending(user_paths().data)
    assert "Where: thread summary" in report.read_text() and "the summary worker failed" in report.read_text()


def test_a_native_crash_is_caught_and_offered_at_the_next_start(hearth_home: Path):
    done = run_crashing("import faulthandler\nfaulthandler._sigsegv()", hearth_home)
    assert done.returncode != 0  # killed by SIGSEGV
    reports = crash_reports.pending(user_paths().data)
    assert len(reports) == 1 and reports[0].name.endswith("-native.txt")
    text = reports[0].read_text()
    assert "crashed inside a native library" in text and "Fatal Python error: Segmentation fault" in text


def test_a_clean_run_leaves_no_report_behind(hearth_home: Path):
    native_before = set(crash_reports.NATIVE.glob("fatal-*.txt"))
    done = subprocess.run(
        [sys.executable, "-m", "app", "--version"],
        env={**os.environ, "HEARTH_HOME": str(hearth_home)},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0
    assert crash_reports.pending(user_paths().data) == []
    assert set(crash_reports.NATIVE.glob("fatal-*.txt")) == native_before  # its own was deleted at exit
    assert not (hearth_home / "data" / "crash-reports").exists()


def test_the_window_offers_the_report_and_deleting_it_removes_it(qtbot, configured_home: Path):
    run_crashing('raise RuntimeError("the window crashed")', configured_home)
    with open_window(qtbot, prepare=False) as win:
        offer = offer_crash_reports(win, win.session.paths.data)
        assert offer is not None and offer.isVisible()
        assert "RuntimeError: the window crashed" in offer.detailedText()
        assert "Nothing was sent anywhere" in offer.informativeText()
        offer.delete.click()
        assert crash_reports.pending(win.session.paths.data) == []
        assert offer_crash_reports(win, win.session.paths.data) is None


def test_keeping_the_report_stops_the_offer_but_keeps_the_file(qtbot, configured_home: Path):
    run_crashing('raise RuntimeError("keep me")', configured_home)
    with open_window(qtbot, prepare=False) as win:
        offer = offer_crash_reports(win, win.session.paths.data)
        assert offer is not None
        offer.keep.click()
        assert crash_reports.pending(win.session.paths.data) == []
        kept = list((win.session.paths.data / "crash-reports" / "seen").glob("*.txt"))
        assert len(kept) == 1 and "keep me" in kept[0].read_text()
