"""The key every program must send to Hearth's local API (``Authorization: Bearer …``).

A random key is generated on first start and kept in the system keychain. Where there is
no keychain (a headless box, a script), ``HEARTH_API_KEY`` gives it; as with every other
key, the environment wins when both are there.
"""

from __future__ import annotations

import hmac
import os
import secrets
from dataclasses import dataclass

import keyring
from keyring.errors import KeyringError

from app.core.config.key_names import SERVER_KEY_NAME, SERVER_KEY_VARIABLE
from app.core.config.keys import SERVICE, clean_key, keychain_problem, store_key
from app.core.errors import HearthError

PREFIX = "hearth-"


@dataclass(frozen=True)
class ServerKey:
    value: str
    where: str  # where it is kept, in words (never the key itself)

    @property
    def rotatable(self) -> bool:
        return not self.where.startswith("the environment")

    def admits(self, authorization: str | None) -> bool:
        """Whether an ``Authorization`` header carries this key (compared in constant time)."""
        scheme, _, given = (authorization or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), self.value.encode())


_IN_KEYCHAIN = f"your system keychain (service '{SERVICE}', name '{SERVER_KEY_NAME}')"
_IN_ENVIRONMENT = f"the environment variable {SERVER_KEY_VARIABLE}"


def server_key() -> ServerKey:
    """The key, generated and stored on first use. Raises HearthError when it can be neither found nor kept."""
    from_env = os.environ.get(SERVER_KEY_VARIABLE)
    if from_env and from_env.strip():
        return ServerKey(clean_key(from_env, f"The key in {SERVER_KEY_VARIABLE}"), _IN_ENVIRONMENT)
    problem = keychain_problem()
    if problem:
        raise HearthError(
            f"Hearth's API needs a key and {problem}. Set the environment variable {SERVER_KEY_VARIABLE} "
            "to a key of your choosing; programs then send it as 'Authorization: Bearer <key>'."
        )
    try:
        stored = keyring.get_password(SERVICE, SERVER_KEY_NAME)
    except (KeyringError, RuntimeError) as exc:
        raise HearthError(
            f"The keychain could not be read ({type(exc).__name__}). Set {SERVER_KEY_VARIABLE} instead."
        ) from None
    if stored and stored.strip():
        return ServerKey(clean_key(stored, f"The key '{SERVER_KEY_NAME}' in the keychain"), _IN_KEYCHAIN)
    return rotate_key()


def rotate_key() -> ServerKey:
    """A new random key in the keychain; programs holding the old one are refused from now on."""
    if os.environ.get(SERVER_KEY_VARIABLE, "").strip():
        raise HearthError(f"The key comes from {SERVER_KEY_VARIABLE}; change it there.")
    value = PREFIX + secrets.token_urlsafe(32)
    store_key(SERVER_KEY_NAME, value)
    return ServerKey(value, _IN_KEYCHAIN)
