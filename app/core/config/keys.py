"""API keys: kept in the OS keychain, or given in an environment variable.

Providers never look keys up; whoever builds a provider does, and injects
the key. Hearth never writes a key anywhere else: not to the database,
config files, logs, exports or error messages.

A key is checked where it comes in (``hearth key set``, the settings dialog,
the environment): spaces and line breaks around it are dropped, and a key
with a character no HTTP header can carry is refused, without being echoed.
"""

from __future__ import annotations

import os

import keyring
from keyring.errors import KeyringError, PasswordDeleteError

from app.core.config.key_names import PREFIX, SERVER_KEY_NAME, SERVER_KEY_VARIABLE, env_name, name_problem, slot_names
from app.core.config.load import default_config_file, load_config, load_config_file
from app.core.config.schema import RemoteBase
from app.core.errors import ConfigError, HearthError, InvalidInput
from app.core.paths import UserPaths

SERVICE = "Hearth"


def clean_key(value: str, where: str) -> str:
    """``value`` without the spaces and line breaks around it; refused if a header cannot carry it.

    ``where`` names the key in the message (which never shows the key itself).
    """
    key = value.strip()
    if not key:
        raise InvalidInput(f"{where} is empty; nothing was used or stored.")
    for position, char in enumerate(key, 1):
        if not "!" <= char <= "~":
            raise InvalidInput(
                f"{where} has {_kind_of(char)} at position {position} of {len(key)}, which an API "
                "key cannot contain (it could not be sent in an HTTP header). Copy the key again from your "
                "provider's page; nothing was used or stored."
            )
    return key


def _kind_of(char: str) -> str:
    if char.isspace():
        return "a space or line break"
    return "a non-ASCII character" if char.isprintable() else "a control character"


def _check_name(key_name: str) -> None:
    problem = name_problem(key_name)
    if problem:
        raise InvalidInput(f"{problem}.")


def keychain_problem() -> str | None:
    """Why the OS keychain cannot be used here (a headless Linux box has none), or None."""
    backend = keyring.get_keyring()
    if backend.priority <= 0 or type(backend).__module__.startswith(("keyring.backends.fail", "keyring.backends.null")):
        return f"no usable system keychain was found ({type(backend).__name__})"
    return None


def api_key(key_name: str) -> str | None:
    """The key named ``key_name``: the environment first (explicit wins), then the keychain.

    Raises InvalidInput for a key no HTTP header can carry.
    """
    variable = env_name(key_name)
    from_env = os.environ.get(variable)
    if from_env and from_env.strip():
        return clean_key(from_env, f"The key in the environment variable {variable}")
    try:
        stored = keyring.get_password(SERVICE, key_name)
    except (KeyringError, RuntimeError):
        return None
    return clean_key(stored, f"The key '{key_name}' in the keychain") if stored and stored.strip() else None


def where(key_name: str) -> str | None:
    """Where the key is found ("environment" or "keychain"), never the key itself."""
    from_env = os.environ.get(env_name(key_name))
    if from_env and from_env.strip():
        return "environment"
    try:
        stored = keyring.get_password(SERVICE, key_name)
    except (KeyringError, RuntimeError):
        return None
    return "keychain" if stored and stored.strip() else None


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
    _check_name(key_name)
    key = clean_key(value, "The key you entered")
    problem = keychain_problem()
    if problem:
        raise HearthError(f"Cannot store the key: {problem}. Set {env_name(key_name)} instead.")
    try:
        keyring.set_password(SERVICE, key_name, key)
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
    """Every key value Hearth could hold, as found (a key it would refuse too): for scrubbing them out."""
    values = [
        value
        for name, value in os.environ.items()
        if (name.startswith(PREFIX) or name == SERVER_KEY_VARIABLE) and value.strip()
    ]
    for slot_name in {slot for key_name in key_names(paths) for slot in slot_names(key_name)} | {SERVER_KEY_NAME}:
        try:
            stored = keyring.get_password(SERVICE, slot_name)
        except (KeyringError, RuntimeError):
            continue
        if stored:
            values.append(stored)
    return values
