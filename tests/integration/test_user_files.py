"""Ordinary files only, wherever Hearth reads or writes by a path: devices, pipes and folders are refused
at once, a download never writes outside the models folder nor over a file Hearth did not download, and
importing a model copies it in the background.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.config.schema import HuggingFaceSource
from app.core.errors import InvalidInput
from app.core.models.files import delete_model_file, download_from_huggingface
from tests.conftest import REPO, Files, config_text, write_user_config

GGUF = b"GGUF" + bytes(range(256)) * 64


def hearth(*args: str) -> subprocess.CompletedProcess:
    """A child `hearth`; a read that blocked or never ended would run into the timeout and fail the test."""
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, cwd=REPO, timeout=60)


def assert_refused(result: subprocess.CompletedProcess, message: str, home: Path) -> None:
    assert result.returncode in (1, 2), result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (home / "data" / "crash-reports").exists()


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "notes.txt"
    os.mkfifo(path)
    return path


def test_attaching_a_device_or_a_pipe_is_refused_without_reading_it(configured_home: Path, fifo: Path):
    assert_refused(hearth("ask", "Summarise this", "--attach", "/dev/zero"), "/dev/zero is a device", configured_home)
    assert_refused(hearth("ask", "Summarise this", "--attach", str(fifo)), "is a pipe (FIFO)", configured_home)


def test_importing_a_device_or_a_pipe_is_refused_without_reading_it(configured_home: Path, fifo: Path):
    assert_refused(hearth("import", "/dev/zero"), "/dev/zero is a device, not an ordinary file", configured_home)
    assert_refused(hearth("import", str(fifo)), "is a pipe (FIFO), not an ordinary file", configured_home)


def test_a_configuration_file_that_is_a_pipe_is_a_clear_configuration_error(hearth_home: Path):
    (hearth_home / "config").mkdir(parents=True)
    os.mkfifo(hearth_home / "config" / "models.toml")
    assert_refused(hearth("models"), "models.toml: cannot be read", hearth_home)


def test_exporting_to_a_full_device_or_a_missing_folder_says_so_and_keeps_an_older_export(
    configured_home: Path, tmp_path: Path
):
    assert_refused(hearth("export", "/dev/full"), "/dev/full is a device, not an ordinary file", configured_home)
    missing = tmp_path / "no such folder" / "export.json"
    assert_refused(hearth("export", str(missing)), f"The folder {missing.parent} does not exist", configured_home)
    older = tmp_path / "export.json"
    older.write_text("an older export")
    assert_refused(hearth("export", str(tmp_path)), "is a folder, not an ordinary file", configured_home)
    assert hearth("export", str(older)).returncode == 0 and older.read_text().startswith("{")


def source_config(model_file: Path, file: str, sha256: str, server: str, filename: str = "small.gguf") -> str:
    text = config_text(model_file)
    return text + (
        f'\n[models.extra]\nprovider = "llama-cpp"\nfile = "{file}"\nsha256 = "{sha256}"\n'
        f'source = {{ kind = "huggingface", repo = "org/repo", filename = "{filename}", endpoint = "{server}" }}\n'
    )


def test_fetch_never_overwrites_a_file_hearth_did_not_download(hearth_home: Path, model_file: Path, server: str):
    Files.files["/org/repo/resolve/main/small.gguf"] = GGUF
    sha = hashlib.sha256(GGUF).hexdigest()
    thesis = hearth_home.parent / "thesis.docx"
    thesis.write_bytes(b"PK\x03\x04 four years of work")
    write_user_config(hearth_home, source_config(model_file, str(thesis), sha, server))
    result = hearth("fetch", "extra")
    assert_refused(result, "it is not in Hearth's models folder", hearth_home)
    assert "Hearth does not overwrite a file it did not download" in result.stderr
    assert thesis.read_bytes() == b"PK\x03\x04 four years of work" and Files.requests == []

    models = hearth_home / "data" / "models"
    models.mkdir(parents=True, exist_ok=True)
    (models / "notes.gguf").write_bytes(b"my own notes, misnamed")
    write_user_config(hearth_home, source_config(model_file, "notes.gguf", sha, server))
    assert_refused(
        hearth("fetch", "extra"), "is not a GGUF model file, so it is not a download of Hearth's", hearth_home
    )
    assert (models / "notes.gguf").read_bytes() == b"my own notes, misnamed"

    (models / "small.gguf").write_bytes(GGUF[:-10] + b"damaged!!!")  # Hearth's own download, damaged
    write_user_config(hearth_home, source_config(model_file, "small.gguf", sha, server))
    assert hearth("fetch", "extra").returncode == 0
    assert (models / "small.gguf").read_bytes() == GGUF


def test_a_model_file_that_is_a_device_is_refused_before_it_is_hashed(hearth_home: Path, model_file: Path, server: str):
    write_user_config(hearth_home, source_config(model_file, "/dev/zero", "0" * 64, server))
    assert_refused(hearth("fetch", "extra"), "/dev/zero is a device, not an ordinary file", hearth_home)


def test_a_hugging_face_file_name_cannot_climb_out_of_the_models_folder(
    hearth_home: Path, model_file: Path, server: str, tmp_path: Path
):
    write_user_config(hearth_home, source_config(model_file, "x.gguf", "0" * 64, server, "../../../escaped.gguf"))
    assert_refused(hearth("models"), "'../../../escaped.gguf' is not a file in a repository", hearth_home)
    with pytest.raises(ValueError, match="not a file in a repository"):
        HuggingFaceSource(kind="huggingface", repo="org/repo", filename="sub/../../escaped.gguf")

    Files.files["/org/repo/resolve/main/quantised/Q4/small.gguf"] = GGUF
    source = HuggingFaceSource(kind="huggingface", repo="org/repo", filename="quantised/Q4/small.gguf", endpoint=server)
    models = tmp_path / "download" / "models"
    path = download_from_huggingface(source, models, lambda _: None, hashlib.sha256(GGUF).hexdigest())
    assert path == models / "small.gguf" and path.read_bytes() == GGUF
    assert sorted(p.name for p in models.parent.rglob("*") if p.is_file()) == [
        "small.gguf",
        "small.gguf.lock",
        "small.gguf.verified",
    ]


def test_deleting_a_link_outside_that_points_in_touches_nothing_beside_it(tmp_path: Path):
    models = tmp_path / "models"
    models.mkdir()
    (models / "real.gguf").write_bytes(GGUF)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    link = outside / "mine.gguf"
    link.symlink_to(models / "real.gguf")
    siblings = [outside / f"mine.gguf{suffix}" for suffix in (".verified", ".part", ".lock")]
    for sibling in siblings:
        sibling.write_text("the user's")
    with pytest.raises(InvalidInput, match="is not in Hearth's models folder"):
        delete_model_file(link, models)
    assert link.is_symlink() and all(s.read_text() == "the user's" for s in siblings)
    assert (models / "real.gguf").read_bytes() == GGUF

    inside = models / "alias.gguf"
    inside.symlink_to(outside / "target.gguf")
    (outside / "target.gguf").write_bytes(GGUF)
    delete_model_file(inside, models)  # a link in the models folder: the link goes, what it points to stays
    assert not inside.is_symlink() and (outside / "target.gguf").read_bytes() == GGUF


def test_importing_a_model_copies_it_in_the_background_and_a_pipe_is_refused(
    qtbot, configured_home: Path, tmp_path: Path, fifo: Path, monkeypatch: pytest.MonkeyPatch
):
    from app.ui import inert
    from app.ui.model_manager import ModelManager
    from tests.window_helpers import open_window

    warnings: list[str] = []
    monkeypatch.setattr(inert, "warn", lambda _parent, title, text: warnings.append(f"{title}: {text}"))
    big = tmp_path / "big.gguf"
    with big.open("wb") as out:
        out.write(b"GGUF")
        out.truncate(256 * 1024 * 1024)  # 256 MB, sparse: quick to make, as slow to copy as any
    target = configured_home / "data" / "models" / "big.gguf"
    with open_window(qtbot, prepare=False) as win:
        manager = ModelManager(win.session, win)
        qtbot.addWidget(manager)
        manager.import_path(big)
        assert not target.exists() and not manager.import_button.isEnabled()  # the window went on at once
        qtbot.waitUntil(manager.import_button.isEnabled, timeout=120_000)
        assert target.stat().st_size == big.stat().st_size and "Imported big.gguf" in manager.status.text()
        assert "big.gguf" in [manager.table.item(r, 1).text() for r in range(manager.table.rowCount())]

        fifo_model = fifo.rename(fifo.with_name("piped.gguf"))
        manager.import_path(fifo_model)
        qtbot.waitUntil(manager.import_button.isEnabled, timeout=10_000)
    assert warnings == [f"Not imported: {fifo_model} is a pipe (FIFO), not an ordinary file; "
                        "Hearth only reads and writes ordinary files."]  # fmt: skip
    assert not (configured_home / "data" / "models" / "piped.gguf").exists()
