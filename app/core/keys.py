"""API keys: kept in the OS keychain, or given in an environment variable.

Providers never look keys up; whoever builds a provider does, and injects
the key. Hearth never writes a key anywhere else: not to the database,
config files, logs, exports or error messages.
"""

from __future__ import annotations

import os

import keyring
from keyring.errors import KeyringError, PasswordDeleteError

from app.core.config import RemoteBase, default_config_file, load_config, load_config_file
from app.core.errors import ConfigError, HearthError
from app.core.paths import UserPaths

SERVICE = "Hearth"


def env_name(key_name: str) -> str:
    return "HEARTH_KEY_" + "".join(ch if ch.isalnum() else "_" for ch in key_name).upper()


def keychain_problem() -> str | None:
    """Why the OS keychain cannot be used here (a headless Linux box has none), or None."""
    backend = keyring.get_keyring()
    if backend.priority <= 0 or type(backend).__module__.startswith(("keyring.backends.fail", "keyring.backends.null")):
        return f"no usable system keychain was found ({type(backend).__name__})"
    return None


def api_key(key_name: str) -> str | None:
    """The key named ``key_name``: the environment first (explicit wins), then the keychain."""
    from_env = os.environ.get(env_name(key_name))
    if from_env:
        return from_env
    try:
        return keyring.get_password(SERVICE, key_name)
    except (KeyringError, RuntimeError):
        return None


def where(key_name: str) -> str | None:
    """Where the key is found ("environment" or "keychain"), never the key itself."""
    if os.environ.get(env_name(key_name)):
        return "environment"
    return "keychain" if api_key(key_name) else None


def missing_key_message(key_name: str) -> str:
    problem = keychain_problem()
    if problem:
        return (
            f"there is no API key '{key_name}': {problem}. Set the environment variable "
            f"{env_name(key_name)} to the key instead."
        )
    return (
        f"there is no API key '{key_name}'. Store it with `hearth key set {key_name}` (it is kept in "
        f"your system keychain), or set the environment variable {env_name(key_name)}."
    )


def store_key(key_name: str, value: str) -> None:
    if not value.strip():
        raise HearthError("The key is empty; nothing was stored.")
    problem = keychain_problem()
    if problem:
        raise HearthError(f"Cannot store the key: {problem}. Set {env_name(key_name)} instead.")
    try:
        keyring.set_password(SERVICE, key_name, value.strip())
    except (KeyringError, RuntimeError) as exc:
        raise HearthError(
            f"The keychain refused the key ({type(exc).__name__}). Set {env_name(key_name)} instead."
        ) from None


def delete_key(key_name: str) -> bool:
    try:
        keyring.delete_password(SERVICE, key_name)
    except PasswordDeleteError:
        return False
    except (KeyringError, RuntimeError) as exc:
        raise HearthError(f"The keychain could not delete the key ({type(exc).__name__}).") from None
    return True


def key_names(paths: UserPaths) -> set[str]:
    """Keys named by the default configuration and by the user's own, if it can be read."""
    configs = [load_config_file(default_config_file())]
    try:
        configs.append(load_config(paths))
    except ConfigError:
        pass  # a broken file names no key Hearth could have used
    return {
        model.key
        for config in configs
        for model in config.models.values()
        if isinstance(model, RemoteBase) and model.key is not None
    }


def known_secrets(paths: UserPaths) -> list[str]:
    """Every key value Hearth could hold: for scrubbing them out of anything it writes."""
    values = [value for name, value in os.environ.items() if name.startswith("HEARTH_KEY_") and value]
    values += [value for name in key_names(paths) if (value := api_key(name))]
    return values
