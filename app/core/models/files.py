"""The GGUF files on this computer: what is there, whether it fits, import, delete, and Hugging Face downloads."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
from pydantic import BaseModel

from app.core.config.schema import Config, HuggingFaceSource, LocalModel
from app.core.errors import FetchError, FetchStopped, InvalidInput
from app.core.models.fetch import CHUNK, FetchProgress, ProgressFn, ensure_model_file, installed_model_file, is_gguf
from app.core.nested_text import read_json
from app.core.user_files import check_regular, open_regular

# Beyond the weights, llama.cpp needs its context (KV cache) and scratch
# buffers; for the small models Hearth runs on a CPU this stays under a fifth.
OVERHEAD = 1.2


@dataclass(frozen=True)
class ModelFile:
    path: Path
    size: int  # bytes; 0 when missing
    name: str | None  # its id in models.toml, if it is configured
    answers_first: bool  # the first model of the first tier

    @property
    def present(self) -> bool:
        return self.size > 0


def model_files(config: Config, models_dir: Path) -> list[ModelFile]:
    """Configured local models (present or not), then other GGUF files in the models folder."""
    first = config.tiers[0].models[0]
    files: list[ModelFile] = []
    for name, model in config.models.items():
        if isinstance(model, LocalModel):
            path = installed_model_file(model, models_dir)
            files.append(ModelFile(path, path.stat().st_size if path.exists() else 0, name, name == first))
    known = {f.path.resolve() for f in files}
    for path in sorted(models_dir.glob("*.gguf")):
        if path.resolve() not in known:
            files.append(ModelFile(path, path.stat().st_size, None, False))
    return files


def memory_hint(size: int) -> str:
    """Whether a model of ``size`` bytes fits in this computer's memory, in words."""
    total = psutil.virtual_memory().total
    need = size * OVERHEAD
    gb = 1024**3
    if need <= total * 0.6:
        return f"Fits in your RAM (about {need / gb:.1f} of {total / gb:.0f} GB)"
    if need <= total:
        return f"Tight: needs about {need / gb:.1f} of your {total / gb:.0f} GB of RAM"
    return f"Too large: needs about {need / gb:.1f} GB, this computer has {total / gb:.0f} GB"


def too_large_for_memory(size: int) -> str | None:
    """Why a model of ``size`` bytes cannot run in this computer's memory, or None if it can."""
    total = psutil.virtual_memory().total
    if size * OVERHEAD <= total:
        return None
    return f"it needs about {size * OVERHEAD / 1024**3:.1f} GB of memory and this computer has {total / 1024**3:.0f} GB"


def import_gguf(source: Path, models_dir: Path, progress: ProgressFn = lambda _: None) -> Path:
    """Copy a GGUF file into the models folder (through a .part file, so a failed or stopped copy leaves nothing).

    ``progress`` hears how far the copy is, and may stop it by raising FetchStopped.
    """
    check_regular(source)
    if not is_gguf(source):
        raise InvalidInput(f"{source.name} is not a GGUF model file (it does not start with 'GGUF').")
    target = models_dir / source.name
    if target.exists():
        raise InvalidInput(f"A model named {source.name} is already in the models folder.")
    part = target.with_name(target.name + ".part")
    try:
        models_dir.mkdir(parents=True, exist_ok=True)
        with open_regular(source) as reader, part.open("wb") as writer:
            total, done = os.fstat(reader.fileno()).st_size, 0
            while block := reader.read(CHUNK):
                writer.write(block)
                done += len(block)
                progress(FetchProgress(f"Importing {source.name}", done, total))
        part.replace(target)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise InvalidInput(f"Cannot copy {source.name}: {exc.strerror or exc}.") from None
    except FetchStopped:
        part.unlink(missing_ok=True)
        raise
    return target


def delete_model_file(path: Path, models_dir: Path) -> None:
    """Delete a model file Hearth manages: one whose entry is in the models folder (a link there: the link).

    A file the user keeps elsewhere, or a link elsewhere that points in, is never touched, nor anything beside it.
    """
    if path.absolute().parent.resolve() != models_dir.resolve():
        raise InvalidInput(
            f"{path} is not in Hearth's models folder, so Hearth does not delete it. "
            "Remove it from models.toml instead, and delete the file yourself if you want to."
        )
    entry = models_dir / path.name
    for leftover in [entry] + [entry.with_name(entry.name + suffix) for suffix in (".verified", ".part", ".lock")]:
        leftover.unlink(missing_ok=True)


class _TreeEntry(BaseModel):
    path: str
    size: int = 0
    lfs: dict[str, object] | None = None


def huggingface_checksum(http: httpx.Client, source: HuggingFaceSource) -> str | None:
    """The file's SHA-256 as the Hub lists it (large files are stored in LFS under their SHA-256)."""
    url = f"{source.endpoint.rstrip('/')}/api/models/{source.repo}/tree/{source.revision}"
    try:
        response = http.get(url)
        response.raise_for_status()
        entries = [_TreeEntry.model_validate(entry) for entry in read_json(response.content)]
    except (httpx.HTTPError, ValueError) as exc:
        raise FetchError(f"Could not list the files of {source.repo}: {exc}.") from None
    for entry in entries:
        if entry.path == source.filename:
            oid = entry.lfs.get("oid") if entry.lfs else None
            return oid if isinstance(oid, str) and len(oid) == 64 else None
    raise FetchError(f"{source.repo} has no file named {source.filename} (revision {source.revision}).")


def download_from_huggingface(
    source: HuggingFaceSource,
    models_dir: Path,
    progress: ProgressFn,
    sha256: str | None = None,
    client: httpx.Client | None = None,
) -> Path:
    """Download (or resume) a GGUF file, checked against ``sha256`` or the checksum the Hub lists."""
    own = client is None
    http = client or httpx.Client(follow_redirects=True, timeout=httpx.Timeout(30.0, connect=10.0))
    try:
        expected = sha256 or huggingface_checksum(http, source)
        model = LocalModel(provider="llama-cpp", file=source.saved_as, sha256=expected, source=source)
        return ensure_model_file(model, models_dir, progress, http)
    finally:
        if own:
            http.close()
