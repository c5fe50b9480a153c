"""The library a Hearth session uses: its index file, and the embedding model models.toml names."""

from __future__ import annotations

from app.core.config.schema import Config, LocalModel
from app.core.documents.embedding import Embedder
from app.core.documents.library import Library
from app.core.models.fetch import ProgressFn, ensure_model_file, installed_model_file
from app.core.paths import UserPaths


class EmbeddingSetup:
    """The embedding model ``[documents] embedding_model`` names: whether it is installed, and getting it.

    A chat model is never taken in its place: its mean-pooled vectors, merged with full text, found the
    right topic less often than full text alone (bench/docs.py), so without an embedding model the
    search is full text alone, and says so.
    """

    def __init__(self, config: Config, paths: UserPaths):
        self.config = config
        self.paths = paths
        self.model_id = config.documents.embedding_model
        model = config.models.get(self.model_id) if self.model_id is not None else None
        assert model is None or isinstance(model, LocalModel)  # the config's own validation guarantees it
        self.model = model

    @property
    def installed(self) -> bool:
        return self.model is not None and installed_model_file(self.model, self.paths.models).exists()

    @property
    def fetchable(self) -> bool:
        """Not installed, but models.toml says where it comes from."""
        return self.model is not None and self.model.source is not None and not self.installed

    def missing(self) -> str | None:
        """Why documents are searched by their words alone (None: they are not)."""
        if self.model is None:
            return (
                "No embedding model is set ([documents] embedding_model in models.toml): "
                "documents are searched by their words alone."
            )
        if self.installed:
            return None
        return f"The embedding model {self.model_id} is not installed: documents are searched by their words alone."

    def embedder(self) -> Embedder | None:
        """The embedding model, once its file is installed (it loads on first use)."""
        if self.model is None or self.model_id is None or not self.installed:
            return None
        return self._embedder(self.model_id, self.model)

    def fetch(self, progress: ProgressFn) -> Embedder:
        """Download the model (checked like any model) and return it; its vectors are computed on the next index."""
        assert self.model is not None and self.model_id is not None
        ensure_model_file(self.model, self.paths.models, progress)
        return self._embedder(self.model_id, self.model)

    def _embedder(self, model_id: str, model: LocalModel) -> Embedder:
        return Embedder(
            model_id, model, lambda: ensure_model_file(model, self.paths.models), self.config.documents.pooling
        )


def library_for(config: Config, paths: UserPaths) -> Library:
    return Library(paths.documents, EmbeddingSetup(config, paths).embedder())
