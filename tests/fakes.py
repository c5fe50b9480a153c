"""Stand-ins for what cannot run here, or must answer exactly: a scripted provider and an in-memory keychain.

Real parts are used wherever the behaviour under test is theirs (tests/conftest.py has the real model,
servers and store); these pin what a decision path needs.
"""

from __future__ import annotations

import math

import keyring
from keyring.backend import KeyringBackend

from app.core.config.schema import Location
from app.core.errors import ProviderUnreachable
from app.core.providers.base import Chunk, Usage


class ScriptedProvider:
    """A provider that answers from a script: for decision paths that must be exact.

    Like simonw/llm's MockModel. Real models are used wherever the behaviour
    under test is the model's own; this one pins the confidence a test needs.
    """

    def __init__(
        self,
        model_id: str,
        text: str | list[str],
        probability: float | None,
        location: str = "local",
        fail: str | None = None,
    ):
        """``text`` may be a list: one answer per call, in turn (for ensembles)."""
        self.model_id = model_id
        self.location = Location(location)
        self.address = f"scripted://{model_id}"
        self.missing_key: str | None = None
        self.n_ctx = 4096
        self.text = text
        self.probability = probability
        self.fail = fail
        self.calls = 0
        self.samplings: list[object] = []

    @property
    def label(self) -> str:
        return f"{self.model_id} (scripted)"

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def stream(self, messages, *, max_tokens: int, sampling=None, clearance=None):
        self.calls += 1
        self.samplings.append(sampling)
        if self.fail:
            raise ProviderUnreachable(self.fail, provider=self.model_id)
        text = self.text if isinstance(self.text, str) else self.text[(self.calls - 1) % len(self.text)]
        words = text.split(" ")
        for i, word in enumerate(words):
            logprobs = () if self.probability is None else (math.log(self.probability),)
            yield Chunk(word if i == 0 else " " + word, logprobs, (0.5,) if logprobs else ())
        yield Chunk("", finish_reason="stop", usage=Usage(10, len(words)))

    def close(self) -> None:
        pass


class MemoryKeychain(KeyringBackend):
    """A real keyring backend that keeps secrets in memory, standing in for the OS keychain."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.secrets:
            raise keyring.errors.PasswordDeleteError(username)
        del self.secrets[(service, username)]
