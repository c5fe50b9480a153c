"""API keys: read from the OS keychain, or from an environment variable.

Providers never call this; whoever builds a provider looks the key up and
injects it. Keys are never written anywhere by Hearth.
"""

from __future__ import annotations

import os

import keyring
from keyring.errors import KeyringError

SERVICE = "Hearth"


def env_name(key_name: str) -> str:
    return "HEARTH_KEY_" + "".join(ch if ch.isalnum() else "_" for ch in key_name).upper()


def api_key(key_name: str) -> str | None:
    """The key named ``key_name``: the environment first (explicit wins), then the keychain."""
    from_env = os.environ.get(env_name(key_name))
    if from_env:
        return from_env
    try:
        return keyring.get_password(SERVICE, key_name)
    except (KeyringError, RuntimeError):
        return None
