"""Finding GGUF models on the Hugging Face Hub by name, for people who know what they want."""

from __future__ import annotations

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from app.core.config.schema import HubRepo, RepositoryFile
from app.core.errors import FetchError
from app.core.nested_text import read_json

MOST_RESULTS = 30


class HubModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: HubRepo  # the repository, "owner/name"
    downloads: int = 0
    likes: int = 0


class HubFile(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    path: RepositoryFile
    size: int = 0


def _get(http: httpx.Client, url: str, params: dict[str, str | int] | None = None) -> object:
    try:
        response = http.get(url, params=params)
    except httpx.HTTPError as exc:
        raise FetchError(f"Could not reach the Hugging Face Hub ({exc}). Check your network connection.") from None
    if response.status_code != 200:
        raise FetchError(f"The Hugging Face Hub answered HTTP {response.status_code} for {url}.")
    try:
        return read_json(response.content)
    except ValueError:
        raise FetchError(f"The Hugging Face Hub sent an answer Hearth cannot read for {url}.") from None


def search_hub(http: httpx.Client, query: str, endpoint: str = "https://huggingface.co") -> list[HubModel]:
    """Repositories with GGUF files whose name contains ``query``, most downloaded first."""
    params: dict[str, str | int] = {
        "search": query.strip(),
        "filter": "gguf",
        "sort": "downloads",
        "direction": -1,
        "limit": MOST_RESULTS,
    }
    found = _get(http, f"{endpoint.rstrip('/')}/api/models", params)
    if not isinstance(found, list):
        raise FetchError("The Hugging Face Hub sent a search result Hearth cannot read.")
    return [model for model in (_valid(HubModel, item) for item in found) if isinstance(model, HubModel)]


def _valid(kind: type[BaseModel], item: object) -> BaseModel | None:
    """One entry of the Hub's answer; None for one Hearth cannot use (a name that would lead elsewhere)."""
    try:
        return kind.model_validate(item)
    except ValidationError:
        return None


def gguf_files(http: httpx.Client, repo: str, endpoint: str = "https://huggingface.co") -> list[HubFile]:
    """The GGUF model files of a repository (projectors and split parts set aside), smallest first."""
    listing = _get(http, f"{endpoint.rstrip('/')}/api/models/{repo}/tree/main")
    if not isinstance(listing, list):
        raise FetchError(f"The Hugging Face Hub sent a file list of {repo} Hearth cannot read.")
    files = [file for file in (_valid(HubFile, item) for item in listing) if isinstance(file, HubFile)]
    usable = [f for f in files if f.path.endswith(".gguf") and "mmproj" not in f.path.lower() and "-of-0" not in f.path]
    return sorted(usable, key=lambda f: f.size)
