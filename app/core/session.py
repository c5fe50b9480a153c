"""Wiring shared by the CLI and the window: paths, config, providers, store."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from app.core.confidence.calibration import Scorer
from app.core.config.load import load_config
from app.core.config.schema import Config
from app.core.conversation.chat import ChatService
from app.core.conversation.learning.learner import Learner
from app.core.documents.library import Library
from app.core.documents.setup import library_for
from app.core.models.fetch import ProgressFn
from app.core.paths import UserPaths, user_paths
from app.core.privacy.gate import ConsentFn
from app.core.providers.base import Provider
from app.core.providers.registry import ProviderRegistry
from app.core.storage.store import Store


@dataclass
class Session:
    paths: UserPaths
    config: Config
    registry: ProviderRegistry
    chat: ChatService
    learner: Learner
    library: Library | None = None  # the user's document collections

    def open_store(self) -> Store:
        return Store(self.paths.database)

    def close(self) -> None:
        self.chat.close()
        self.learner.close()  # a refit in progress finishes
        self.registry.close()
        if self.library is not None and self.library.embedder is not None:
            self.library.embedder.close()


def open_session(
    progress: ProgressFn | None = None,
    consent: ConsentFn | None = None,
    providers: Mapping[str, Provider] | None = None,
) -> Session:
    """Load the configuration first: a broken file stops everything before anything starts. ``providers``,
    by model id, answer in place of those the configuration would build (ProviderRegistry)."""
    paths = user_paths()
    config = load_config(paths)
    paths.ensure()
    registry = ProviderRegistry(config, paths.models, progress, providers)
    scorer = Scorer.for_config(config, paths.calibration)
    library = library_for(config, paths)
    learner = Learner(config, scorer, paths.calibration, lambda: Store(paths.database))
    chat = ChatService(config, registry, lambda: Store(paths.database), consent, scorer, library, learner)
    return Session(paths, config, registry, chat, learner, library)


@contextmanager
def session_and_store() -> Iterator[tuple[Session, Store]]:
    """A session with this thread's store, both closed on the way out."""
    session = open_session()
    store = session.open_store()
    try:
        yield session, store
    finally:
        store.close()
        session.close()
