"""The library a Hearth session uses: its index file and the embedding model models.toml chooses."""

from __future__ import annotations

from app.core.config.schema import Config, LocalModel
from app.core.documents.embedding import Embedder
from app.core.documents.library import Library
from app.core.models.fetch import ensure_model_file, installed_model_file
from app.core.paths import UserPaths


def embedder_for(config: Config, paths: UserPaths) -> Embedder | None:
    """The configured embedding model (default: the first local model); None while its file is not installed,
    so searching is full text alone until it is."""
    model_id = config.documents.embedding_model or config.tiers[0].models[0]
    model = config.models[model_id]
    assert isinstance(model, LocalModel)  # the config's own validation guarantees it
    if not installed_model_file(model, paths.models).exists():
        return None
    return Embedder(model_id, model, lambda: ensure_model_file(model, paths.models), config.documents.pooling)


def library_for(config: Config, paths: UserPaths) -> Library:
    return Library(paths.documents, embedder_for(config, paths))
