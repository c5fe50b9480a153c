"""Wiring shared by the CLI and the window: paths, config, providers, store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from app.core.confidence.calibration import Scorer
from app.core.config.load import load_config
from app.core.config.schema import Config
from app.core.conversation.chat import ChatService
from app.core.models.fetch import ProgressFn
from app.core.paths import UserPaths, user_paths
from app.core.privacy.gate import ConsentFn
from app.core.providers.registry import ProviderRegistry
from app.core.storage.store import Store


@dataclass
class Session:
    paths: UserPaths
    config: Config
    registry: ProviderRegistry
    chat: ChatService

    def open_store(self) -> Store:
        return Store(self.paths.database)

    def close(self) -> None:
        self.chat.close()
        self.registry.close()


def open_session(progress: ProgressFn | None = None, consent: ConsentFn | None = None) -> Session:
    """Load the configuration first: a broken file stops everything before anything starts."""
    paths = user_paths()
    config = load_config(paths)
    paths.ensure()
    registry = ProviderRegistry(config, paths.models, progress)
    scorer = Scorer.from_folder(paths.calibration, list(config.models), config.settings.threshold)
    chat = ChatService(config, registry, lambda: Store(paths.database), consent, scorer)
    return Session(paths, config, registry, chat)


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
