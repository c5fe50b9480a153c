"""A full disk and a read-only disk: Hearth says so, and what was saved stays readable and sound.

Each case runs `hearth` on a small tmpfs mounted in a private mount namespace
(``unshare -rm``: no root needed), filled up or remounted read-only between
commands, exactly as a real disk would behave.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.skipif(
    shutil.which("unshare") is None or subprocess.run(["unshare", "-rm", "true"]).returncode != 0,
    reason="needs unshare with user and mount namespaces",
)


# Read-only and immutable, so it also works on the read-only disk.
CHECK = (
    "import sqlite3, sys; db = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro&immutable=1', uri=True); "
    "one = lambda sql: db.execute(sql).fetchone()[0]; "
    "print(one('PRAGMA integrity_check'), one('SELECT count(*) FROM messages'))"
)


def run_on_small_disk(tmp_path: Path, model_file: Path, steps: str) -> str:
    """Mount a 3 MB tmpfs as HEARTH_HOME, ask one question there, then run ``steps``; returns the output."""
    mount = tmp_path / "disk"
    mount.mkdir()
    config = (REPO / "models.toml").read_text(encoding="utf-8")
    config = config.replace('file = "SmolLM2-135M-Instruct.Q4_1.gguf"', f'file = "{model_file}"')
    (tmp_path / "models.toml").write_text(config, encoding="utf-8")
    hearth = f"{sys.executable} -m app"
    script = f"""
set -u
mount -t tmpfs -o size=3m tmpfs {mount}
export HEARTH_HOME={mount}/home
mkdir -p $HEARTH_HOME/config && cp {tmp_path}/models.toml $HEARTH_HOME/config/
{hearth} ask "Say hi" >/dev/null 2>&1; echo "first: $?"
{steps}
echo "integrity: $({sys.executable} -c "{CHECK}" $HEARTH_HOME/data/hearth.db)"
"""
    done = subprocess.run(["unshare", "-rm", "sh", "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300)
    return done.stdout + done.stderr


def test_a_full_disk_is_named_and_the_saved_conversation_survives(tmp_path: Path, model_file: Path):
    out = run_on_small_disk(
        tmp_path,
        model_file,
        f"""
dd if=/dev/zero of={tmp_path}/disk/filler bs=64k 2>/dev/null
{sys.executable} -m app ask "Say hello again"; echo "full: $?"
rm {tmp_path}/disk/filler
""",
    )
    assert "first: 0" in out and "full: 1" in out, out
    assert "The disk holding your conversations" in out and "is full" in out, out
    assert "Traceback" not in out
    assert "integrity: ok 2" in out or "integrity: ok 3" in out, out  # the first question and answer, at least


def test_a_read_only_disk_is_named_and_the_conversations_can_still_be_read(tmp_path: Path, model_file: Path):
    out = run_on_small_disk(
        tmp_path,
        model_file,
        f"""
mount -o remount,ro {tmp_path}/disk
{sys.executable} -m app ask "Anything new?"; echo "read-only ask: $?"
{sys.executable} -m app search hi; echo "read-only search: $?"
""",
    )
    assert "first: 0" in out and "read-only ask: 1" in out, out
    assert "is read-only, so nothing new can be saved" in out, out
    assert "Say [hi]" in out and "read-only search: 0" in out, out
    assert "Traceback" not in out
    assert "integrity: ok 2" in out, out
