"""Getting a catalog model: check the fit from its header, download it (and its projector), place it on the ladder.

The same steps for the window's "Get it" and ``hearth fetch CATALOG_ID``. The fit is
checked before a byte of the model is downloaded: a model that will not fit is refused
with what it needs. The download is Hearth's usual one (resumed from a ``.part`` file,
checked against the SHA-256 the Hub lists, so ``progress`` may pause it by raising
FetchStopped); the checksum is kept in models.toml, so a later fetch is checked too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import httpx

from app.core.catalog.entries import CatalogModel
from app.core.catalog.facts import read_facts
from app.core.catalog.fit import Fit, Verdict, context_for, fit
from app.core.catalog.hardware import GB, Hardware
from app.core.catalog.ladder import Placement, join_ladder
from app.core.errors import FetchError
from app.core.models.fetch import FetchProgress, ProgressFn
from app.core.models.files import download_from_huggingface, huggingface_checksum
from app.core.paths import UserPaths

HUB = "https://huggingface.co"
HUB_ENV = "HF_ENDPOINT"  # a mirror of the Hub, as Hugging Face's own tools read it


def hub_endpoint() -> str:
    return os.environ.get(HUB_ENV, "").strip() or HUB


@dataclass(frozen=True)
class Installed:
    path: Path
    projector: Path | None
    fit: Fit
    placement: Placement


def get_model(
    model: CatalogModel,
    quant: str,
    paths: UserPaths,
    hardware: Hardware,
    progress: ProgressFn,
    client: httpx.Client | None = None,
    endpoint: str | None = None,
) -> Installed:
    endpoint = endpoint or hub_endpoint()
    own = client is None
    http = client or httpx.Client(follow_redirects=True, timeout=httpx.Timeout(30.0, connect=10.0))
    try:
        progress(FetchProgress(f"Reading the header of {model.files[quant]}"))
        facts = read_facts(http, model, quant, paths, endpoint)
        verdict = fit(facts.shape, facts.file_size, hardware)
        if verdict.verdict is Verdict.NO:
            raise FetchError(
                f"{model.name} would not fit: it needs about {verdict.need.total / GB:.1f} GB and this computer has "
                f"{hardware.ram_total / GB:.0f} GB of RAM. Nothing was downloaded; choose a smaller model."
            )
        source = model.source(quant, endpoint)
        sha256 = huggingface_checksum(http, source)
        path = download_from_huggingface(source, paths.models, progress, sha256, http)
        projector_source = model.projector_source(endpoint)
        projector = None
        if projector_source is not None:
            checksum = huggingface_checksum(http, projector_source)
            projector = download_from_huggingface(projector_source, paths.models, progress, checksum, http)
    finally:
        if own:
            http.close()
    entry: dict[str, object] = {
        "provider": "llama-cpp",
        "file": path.name,
        "n_ctx": context_for(facts.shape),
        "gpu_layers": verdict.gpu_layers,
        "source": source.model_dump(mode="json", exclude_defaults=True),
    }
    if sha256:
        entry["sha256"] = sha256
    placement = join_ladder(paths, model.id, entry, verdict)
    return Installed(path, projector, verdict, placement)
