"""Removing everything Hearth keeps about its user, only when the user asks.

Uninstalling Hearth keeps conversations, settings and API keys, so that a
reinstall finds them. ``hearth erase-data`` (which the Windows uninstaller
offers to run) removes the data folder (conversations, backups, downloaded
models), the config folder, and every API key named in the configuration from
the system keychain.
"""

from __future__ import annotations

import shutil

from app.core import keys
from app.core.errors import HearthError
from app.core.paths import UserPaths


def erase_user_data(paths: UserPaths) -> list[str]:
    """Erase, and say what was erased; a keychain that refuses does not keep the folders."""
    names = sorted(keys.key_names(paths))  # read before the configuration goes
    erased = []
    for folder in (paths.data, paths.config):
        if folder.exists():
            shutil.rmtree(folder)
            erased.append(str(folder))
    if keys.keychain_problem() is not None:
        return erased  # no keychain: Hearth cannot have stored a key in one
    kept = []
    for name in names:
        try:
            if keys.delete_key(name):
                erased.append(f"API key '{name}'")
        except HearthError as exc:
            kept.append(f"'{name}' ({exc})")
    if kept:
        done = "; ".join(erased) or "nothing else"
        raise HearthError(f"Erased {done}, but these API keys are still in the keychain: {', '.join(kept)}.")
    return erased
