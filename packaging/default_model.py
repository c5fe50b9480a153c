"""Print the path of the default model's GGUF, fetched and verified once into a build cache.

Installers carry this file so that a fresh install answers offline. It is fetched by Hearth's
own code, from the source named in models.toml, and checked against the SHA-256 there.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from app.core.config.load import default_config_file, load_config_file
from app.core.config.schema import LocalModel
from app.core.models.fetch import FetchProgress, ensure_model_file


class Report:
    """One line per tenth of each step: build logs are read, not watched."""

    def __init__(self) -> None:
        self.shown: tuple[str, int] | None = None

    def __call__(self, progress: FetchProgress) -> None:
        tenth = progress.done * 10 // progress.total if progress.total else 0
        if (progress.message, tenth) != self.shown:
            self.shown = (progress.message, tenth)
            print(f"{progress.message}: {tenth * 10}%", file=sys.stderr)


def main() -> None:
    config = load_config_file(default_config_file())
    model = config.models[config.tiers[0].models[0]]
    assert isinstance(model, LocalModel), "the first tier's first model is the local default"
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hearth" / "installer-models"
    print(ensure_model_file(model, cache, Report()))


if __name__ == "__main__":
    main()
