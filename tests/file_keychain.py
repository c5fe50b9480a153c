"""A keyring backend that keeps secrets in a JSON file: the system keychain of a child process in a test.

Selected with ``PYTHON_KEYRING_BACKEND=tests.file_keychain.FileKeychain``; the file is
``$HEARTH_TEST_KEYCHAIN``. keyring loads it like any installed backend.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class FileKeychain(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    @property
    def _file(self) -> Path:
        return Path(os.environ["HEARTH_TEST_KEYCHAIN"])

    def _load(self) -> dict[str, str]:
        return json.loads(self._file.read_text()) if self._file.exists() else {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        self._file.write_text(json.dumps({**self._load(), f"{service}/{username}": password}))

    def delete_password(self, service: str, username: str) -> None:
        secrets = self._load()
        if secrets.pop(f"{service}/{username}", None) is None:
            raise PasswordDeleteError(username)
        self._file.write_text(json.dumps(secrets))
