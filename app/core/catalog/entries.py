"""The catalog of local chat models Hearth offers, shipped in ``resources/catalog.toml``.

A newer catalog may be fetched from ``[catalog] url``; that is off until the user turns on
``[catalog] refresh`` (like the update check, it is one HTTPS GET of a public file that
carries nothing but ``User-Agent: Hearth/<version>``). A fetched catalog is validated like
the shipped one, kept in the cache folder, and used only while it is newer than the one
Hearth shipped with; a broken one is refused and the shipped one stays in use.
"""

from __future__ import annotations

import tomllib
from datetime import date, datetime, timedelta
from typing import Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from app.core.catalog.shape import ModelShape
from app.core.config.schema import CatalogRefresh, HubRepo, HubRevision, HuggingFaceSource
from app.core.errors import FetchError
from app.core.nested_text import TooDeep, read_toml
from app.core.paths import UserPaths, bundled
from app.core.user_files import write_regular

Task = Literal["reasoning", "code", "writing", "summarising", "extraction", "translation", "vision", "speed"]
CACHED = "catalog.toml"  # in the cache folder: the last catalog fetched from [catalog] url
REFRESH_EVERY = timedelta(days=1)
# Bits per weight of llama.cpp's quantisations, averaged over a model's tensors: the file
# size before the header has been read.
BITS_PER_WEIGHT = {"Q4_0": 4.55, "Q4_K_M": 4.85, "Q5_K_M": 5.69, "Q6_K": 6.59, "Q8_0": 8.5, "F16": 16.0}


class CatalogModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]*$", max_length=60)
    name: str = Field(min_length=1, max_length=80)
    family: str = Field(min_length=1)
    repo: HubRepo
    revision: HubRevision = "main"
    licence: str = Field(min_length=1)
    parameters_b: float = Field(gt=0, le=1000, description="billions of parameters")
    context: int = Field(ge=256, description="the context length it was trained for")
    good_at: list[Task] = Field(min_length=1)
    note: str = ""
    files: dict[str, str] = Field(min_length=1, description="quantisation -> file, the one offered first first")
    projector: str | None = Field(default=None, description="the vision projector (mmproj) file")
    shape: ModelShape

    @field_validator("files")
    @classmethod
    def _gguf_files(cls, files: dict[str, str]) -> dict[str, str]:
        for quant, name in files.items():
            if quant not in BITS_PER_WEIGHT:
                raise ValueError(f"'{quant}' is not a quantisation Hearth knows ({', '.join(BITS_PER_WEIGHT)})")
            HuggingFaceSource(kind="huggingface", repo="a/b", filename=name)  # stays inside the repository
            if not name.endswith(".gguf"):
                raise ValueError(f"'{name}' is not a .gguf file")
        return files

    @model_validator(mode="after")
    def _vision_has_projector(self) -> CatalogModel:
        if ("vision" in self.good_at) != (self.projector is not None):
            raise ValueError(f"'{self.id}': a model good at vision needs its projector, and only such a model has one")
        return self

    def source(self, quant: str, endpoint: str = "https://huggingface.co") -> HuggingFaceSource:
        return HuggingFaceSource(
            kind="huggingface", repo=self.repo, filename=self.files[quant], revision=self.revision, endpoint=endpoint
        )

    def projector_source(self, endpoint: str = "https://huggingface.co") -> HuggingFaceSource | None:
        if self.projector is None:
            return None
        return HuggingFaceSource(
            kind="huggingface", repo=self.repo, filename=self.projector, revision=self.revision, endpoint=endpoint
        )

    def approximate_size(self, quant: str) -> int:
        """The file's size in bytes, from the parameter count, until the header read gives the real one."""
        return int(self.parameters_b * 1e9 * BITS_PER_WEIGHT[quant] / 8)


class Catalog(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    updated: date
    models: list[CatalogModel] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> Catalog:
        ids = [model.id for model in self.models]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"these ids are in the catalog twice: {', '.join(twice)}")
        return self

    def get(self, model_id: str) -> CatalogModel:
        for model in self.models:
            if model.id == model_id:
                return model
        known = ", ".join(model.id for model in self.models)
        raise FetchError(f"There is no model '{model_id}' in the catalog. Its models: {known}.")


def parse_catalog(text: str, where: str) -> Catalog:
    try:
        return Catalog.model_validate(read_toml(text))
    except (tomllib.TOMLDecodeError, TooDeep) as exc:
        raise FetchError(f"The catalog {where} is not valid TOML: {exc}.") from None
    except ValidationError as exc:
        error = exc.errors()[0]
        at = ".".join(str(part) for part in error["loc"])
        raise FetchError(f"The catalog {where} is not one Hearth can use ({at}: {error['msg']}).") from None


def shipped_catalog() -> Catalog:
    path = bundled("resources/catalog.toml")
    return parse_catalog(path.read_text(encoding="utf-8"), str(path))


def load_catalog(paths: UserPaths) -> Catalog:
    """The catalog in use: a fetched one while it is newer than the shipped one and valid, else the shipped one."""
    shipped = shipped_catalog()
    cached = paths.cache / CACHED
    if cached.is_file():
        try:
            fetched = parse_catalog(cached.read_text(encoding="utf-8"), str(cached))
        except (FetchError, OSError, UnicodeDecodeError):
            return shipped
        if fetched.updated > shipped.updated:
            return fetched
    return shipped


def refresh_due(paths: UserPaths, now: datetime | None = None) -> bool:
    cached = paths.cache / CACHED
    if not cached.is_file():
        return True
    age = (now or datetime.now()) - datetime.fromtimestamp(cached.stat().st_mtime)
    return age >= REFRESH_EVERY


def refresh_catalog(http: httpx.Client, url: str, paths: UserPaths, version: str) -> Catalog:
    """Fetch the catalog at ``url``, validate it, keep it; the catalog now in use is returned."""
    try:
        response = http.get(url, headers={"User-Agent": f"Hearth/{version}"})
    except httpx.HTTPError as exc:
        raise FetchError(
            f"Could not fetch the catalog from {url}: {exc}. The catalog Hearth has stays in use."
        ) from None
    if response.status_code != 200:
        raise FetchError(f"{url} answered HTTP {response.status_code}; the catalog Hearth has stays in use.")
    text = response.content.decode("utf-8", errors="replace")
    parse_catalog(text, f"from {url}")
    paths.cache.mkdir(parents=True, exist_ok=True)
    write_regular(paths.cache / CACHED, text.encode("utf-8"))
    return load_catalog(paths)


def refresh_if_due(paths: UserPaths, settings: CatalogRefresh, version: str) -> Catalog | None:
    """The daily refresh, when the user turned it on: the catalog now in use, or None when nothing was asked."""
    if not settings.refresh or not refresh_due(paths):
        return None
    with httpx.Client(follow_redirects=True, timeout=httpx.Timeout(30.0, connect=10.0)) as http:
        return refresh_catalog(http, settings.url, paths, version)
