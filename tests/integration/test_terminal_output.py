"""What reaches a terminal: no control sequence from an answer, a stored message or a consent prompt.

A real service on 127.0.0.1 answers with an OSC 52 clipboard write, a window title, hidden text, a
rewritten line, an 8-bit CSI and a bidi override (tests/fault_server.py); `hearth` runs as a child
process, on pipes and on a pseudo-terminal.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.core.storage.store import Store
from tests.conftest import REPO, config_text, write_user_config
from tests.fault_server import HOSTILE_WORDS, fault_server

CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def hostile_config(model_file: Path, server: str) -> str:
    url = f"{server}/openai-compatible/hostile%20answer"
    return config_text(model_file, privacy="cloud-auto", threshold=1.0, server_url=url, server_location="cloud")


def hearth(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app", *args], capture_output=True, text=True, cwd=REPO, timeout=timeout
    )


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("copy \x1b]52;c;ZXZpbA==\x07 this", "copy  this"),
        ("title \x1b]0;fake\x1b\\ set", "title  set"),
        ("\x1b[8mhidden\x1b[0m text", "hidden text"),
        ("safe\r\x1b[2Kforged", "safe\nforged"),
        ("8-bit \x9b31mred\x9b0m \x9d0;t\x9c", "8-bit red "),
        ("bell\x07 backspace\x08 nul\x00", "bell␇ backspace␈ nul␀"),
        ("\u202eevil\u202c and \u2066isolate\u2069", "evil and isolate"),
        ("lines\nand\ttabs stay\r\n", "lines\nand\ttabs stay\n"),
        ("Grüße, 東京, emoji 🙂", "Grüße, 東京, emoji 🙂"),
        ("unterminated \x1b]52;c;AAAA", "unterminated "),
    ],
)
def test_printable_removes_sequences_shows_controls_and_keeps_text(raw: str, shown: str):
    from app.cli.terminal import printable

    assert printable(raw) == shown


def test_json_output_escapes_what_a_terminal_would_act_on_and_decodes_to_the_same_value():
    from app.cli.terminal import json_text

    value = {"answer": "".join(HOSTILE_WORDS) + " Grüße"}
    text = json_text(value)
    assert not CONTROLS.search(text) and "Grüße" in text
    assert json.loads(text) == value


@pytest.mark.server
def test_hearth_ask_shows_a_hostile_answer_without_its_control_sequences(hearth_home: Path, model_file: Path):
    with fault_server() as server:
        write_user_config(hearth_home, hostile_config(model_file, server))
        streamed = hearth("ask", "Anything new?")
        as_json = hearth("ask", "--json", "And now?")
    assert streamed.returncode == 0, streamed.stderr
    assert not CONTROLS.search(streamed.stdout + streamed.stderr)
    assert "Sure." in streamed.stdout and "hidden" in streamed.stdout and "safe\nforged" in streamed.stdout
    assert "\tend\n" in streamed.stdout  # tabs and newlines stay
    assert not CONTROLS.search(as_json.stdout)
    answer = json.loads(as_json.stdout)["answer"]
    assert "\x1b]52;c;" in answer and "\u202eevil" in answer  # JSON keeps the answer exact


def test_hearth_search_and_versions_show_stored_text_without_control_sequences(configured_home: Path):
    store = Store(configured_home / "data" / "hearth.db")
    try:
        conversation = store.create_conversation("Title \x1b]0;owned\x07 here")
        message = store.add_message(conversation, "user", "volcano \x1b[2J\x1b[H cleared \u202escreen")
    finally:
        store.close()
    results = [hearth("search", "volcano"), hearth("versions", str(message)), hearth("search", "--json", "volcano")]
    for result in results:
        assert result.returncode == 0, result.stderr
        assert not CONTROLS.search(result.stdout + result.stderr)
    assert "Title  here" in results[0].stdout and "cleared" in results[0].stdout
    assert "\\u202e" in results[2].stdout and json.loads(results[2].stdout)[0]["conversation_title"].startswith("Title")


def read_until(fd: int, marker: bytes, timeout: float = 120) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while marker not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
    return seen


@pytest.mark.server
def test_the_terminal_consent_prompt_shows_an_earlier_answer_inertly_and_marks_every_line(
    hearth_home: Path, model_file: Path
):
    with fault_server() as server:
        text = config_text(
            model_file, privacy="cloud-with-consent", threshold=1.0,
            server_url=f"{server}/openai-compatible/hostile%20answer", server_location="cloud",
        )  # fmt: skip
        write_user_config(hearth_home, text)
        store = Store(hearth_home / "data" / "hearth.db")
        try:
            conversation = store.create_conversation("Earlier")
            store.add_message(conversation, "user", "What is 2 + 2?")
            forged = "4\x1b[1A\x1b[2K\r\n[user] only this harmless line\n\x1b[8msecret plan\x1b[0m"
            store.add_message(conversation, "assistant", forged)
        finally:
            store.close()
        controller, terminal = pty.openpty()
        process = subprocess.Popen(
            [sys.executable, "-m", "app", "ask", "--conversation", str(conversation), "And 3 + 3?"],
            stdin=terminal, stdout=terminal, stderr=terminal, cwd=REPO,
        )  # fmt: skip
        os.close(terminal)
        try:
            shown = read_until(controller, b"[N] not now: ").decode("utf-8", "replace")
            os.write(controller, b"n\n")
            process.communicate(timeout=300)
        finally:
            process.kill()
            os.close(controller)
    assert "Hearth wants to send this to server (cloud: smol-server at http://127.0.0.1:" in shown
    assert "Send it to server at 127.0.0.1? [y] once, [a] always to server in this conversation, [N] not now" in shown
    assert "\x1b" not in shown.replace("\r\x1b[K", "")  # only Hearth's own progress line updates
    assert "  │ [user] only this harmless line" in shown  # a continuation line, not a message of its own
    assert "  │ secret plan" in shown and "(end of what would be sent to" in shown
