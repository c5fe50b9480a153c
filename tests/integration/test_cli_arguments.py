"""What a command line or a file can hand `hearth`: each ends in a clear message, never a traceback; erasing
takes only what Hearth made."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

TOO_LARGE = str(2**63)


def hearth(*args: str | bytes, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app", *args], capture_output=True, text=True, cwd=REPO, timeout=120,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


def assert_clear(result: subprocess.CompletedProcess, message: str, home: Path, code: int = 2) -> None:
    assert result.returncode == code, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (home / "data" / "crash-reports").exists(), "a crash report was written"


@pytest.mark.parametrize(
    "args",
    [
        ("versions", TOO_LARGE),
        ("feedback", TOO_LARGE, "up"),
        ("delete", TOO_LARGE),
        ("ask", "--conversation", TOO_LARGE, "hi"),
        ("export", "--conversation", "-1", "out.json"),
        ("search", "--limit", TOO_LARGE, "hi"),
    ],
)
def test_ids_and_counts_out_of_range_are_usage_errors(configured_home: Path, args: tuple[str, ...]):
    assert_clear(hearth(*args), "9223372036854775807", configured_home)


@pytest.mark.parametrize(
    "args, name",
    [
        ((b"search", b"caf\xe9"), "query"),
        ((b"ask", b"\xff\xfe question"), "question"),
        ((b"edit", b"1", b"\xc3"), "text"),
    ],
)
def test_an_argument_that_is_not_utf8_is_named_and_refused(configured_home: Path, args: tuple[bytes, ...], name: str):
    assert_clear(hearth(*args), f"the argument {name} is not valid UTF-8 text", configured_home)


def test_a_path_that_is_not_utf8_still_works_and_prints(configured_home: Path, tmp_path: Path):
    out = os.fsencode(tmp_path) + b"/export-\xe9.json"
    result = hearth(b"export", out)
    assert result.returncode == 0, result.stderr
    assert Path(os.fsdecode(out)).exists() and "Exported 0 conversation(s)" in result.stdout


@pytest.mark.parametrize("nested", ["x = " + "[" * 100_000 + "]" * 100_000, "x = " + "{a=" * 5000 + "1" + "}" * 5000])
def test_deeply_nested_toml_is_a_configuration_error_with_a_message(hearth_home: Path, nested: str):
    (hearth_home / "config").mkdir(parents=True)
    (hearth_home / "config" / "models.toml").write_text(nested)
    assert_clear(hearth("models"), "nests arrays or tables too deeply", hearth_home)


def test_erase_data_takes_only_what_hearth_made(hearth_home: Path, configured_home: Path):
    data, config = hearth_home / "data", hearth_home / "config"
    assert hearth("ask", "Say hi").returncode == 0
    assert hearth("backup").returncode == 0
    (data / "my-notes.txt").write_text("mine")
    (data / "photos").mkdir()
    (data / "photos" / "cat.jpg").write_bytes(b"\xff\xd8\xff")
    (config / "other-app.ini").write_text("[x]")
    result = hearth("erase-data", "--yes", env={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in data.iterdir()) == ["my-notes.txt", "photos"]
    assert (data / "photos" / "cat.jpg").exists() and sorted(p.name for p in config.iterdir()) == ["other-app.ini"]
    assert f"Left {data}: files Hearth did not create are still there (my-notes.txt, photos/)" in result.stdout


def test_erase_data_does_not_follow_a_data_folder_that_is_a_link(hearth_home: Path, tmp_path: Path):
    elsewhere = tmp_path / "big-disk"
    elsewhere.mkdir()
    (elsewhere / "hearth.db").write_bytes(b"not to be touched through a link")
    hearth_home.mkdir()
    (hearth_home / "data").symlink_to(elsewhere)
    result = hearth("erase-data", "--yes", env={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert f"it is a link to {elsewhere}, which Hearth does not follow" in result.stdout
    assert (elsewhere / "hearth.db").exists() and (hearth_home / "data").is_symlink()
