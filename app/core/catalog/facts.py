"""What the fit estimate knows of one catalog file: its shape and size, from its header or from the catalog.

Reading a header costs a Range request to the Hub, so it happens when the user asks
(checking the fit, getting the model, ``hearth catalog --read-headers``), and what it
found is kept in the cache folder: later estimates are exact without asking again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import httpx
from pydantic import BaseModel, ValidationError

from app.core.catalog.entries import CatalogModel
from app.core.catalog.fit import Fit, fit
from app.core.catalog.gguf_header import read_remote_header
from app.core.catalog.hardware import Hardware
from app.core.catalog.shape import ModelShape, shape_of
from app.core.config.schema import HuggingFaceSource
from app.core.errors import FetchError
from app.core.nested_text import read_json
from app.core.paths import UserPaths
from app.core.user_files import write_regular

CACHED = "gguf-headers.json"  # in the cache folder


@dataclass(frozen=True)
class Facts:
    shape: ModelShape
    file_size: int
    exact: bool  # from the file's own header (else from the catalog)


class _Known(BaseModel):
    shape: ModelShape
    file_size: int


def file_url(source: HuggingFaceSource) -> str:
    return f"{source.endpoint.rstrip('/')}/{source.repo}/resolve/{source.revision}/{source.filename}"


def _key(model: CatalogModel, quant: str) -> str:
    return f"{model.repo}@{model.revision}/{model.files[quant]}"


def _read_cache(path: Path) -> dict[str, _Known]:
    try:
        raw = read_json(path.read_text(encoding="utf-8"))
        return {key: _Known.model_validate(value) for key, value in raw.items()}
    except (OSError, ValueError, AttributeError, ValidationError):
        return {}  # missing or damaged: the catalog's figures are used until a header is read again


def known_facts(model: CatalogModel, quant: str, paths: UserPaths) -> Facts:
    """The header's facts when it has been read, else the catalog's shape and an approximate size."""
    known = _read_cache(paths.cache / CACHED).get(_key(model, quant))
    if known is not None:
        return Facts(known.shape, known.file_size, exact=True)
    return Facts(model.shape, model.approximate_size(quant), exact=False)


def read_facts(http: httpx.Client, model: CatalogModel, quant: str, paths: UserPaths, endpoint: str) -> Facts:
    """Read the file's header from the Hub (its first megabytes only) and remember what it says."""
    header = read_remote_header(http, file_url(model.source(quant, endpoint)))
    shape = shape_of(header)
    size = header.file_size or model.approximate_size(quant)
    cache = paths.cache / CACHED
    known = _read_cache(cache)
    known[_key(model, quant)] = _Known(shape=shape, file_size=size)
    paths.cache.mkdir(parents=True, exist_ok=True)
    text = json.dumps({key: value.model_dump() for key, value in known.items()}, indent=1)
    write_regular(cache, text.encode("utf-8"))
    return Facts(shape, size, exact=header.file_size is not None)


def fit_of_hub_file(http: httpx.Client, source: HuggingFaceSource, hardware: Hardware) -> Fit:
    """How any GGUF file on the Hub would fit here, from its header (a file found by searching the Hub)."""
    header = read_remote_header(http, file_url(source))
    if header.file_size is None:
        raise FetchError(f"The Hub did not say how large {source.filename} is, so its fit cannot be estimated.")
    return fit(shape_of(header), header.file_size, hardware)
