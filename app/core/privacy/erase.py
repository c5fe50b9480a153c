"""Removing everything Hearth keeps about its user, only when the user asks.

Uninstalling Hearth keeps conversations, settings and API keys, so that a
reinstall finds them. ``hearth erase-data`` (which the Windows uninstaller
offers to run) removes what Hearth created in its data folder (conversations,
backups, downloaded models, calibration, crash reports) and its config folder,
and every API key named in the configuration (and the local API's own) from the system keychain.

Only Hearth's own entries go: with ``HEARTH_HOME`` (a portable install) the
folders may hold files of the user's too, and those stay, named in the result.
A link is removed as a link and never followed: a data folder that is a link
elsewhere is left whole, and the user is told where it points.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from app.core.config import keys
from app.core.config.key_names import SERVER_KEY_NAME
from app.core.errors import HearthError
from app.core.paths import CRASH_REPORTS, UPDATE_CHECK, WELCOMED, UserPaths

# What Hearth creates in each folder (names, or patterns for temporary files of an interrupted write).
DATA_ENTRIES = (
    "hearth.db", "hearth.db-wal", "hearth.db-shm", "hearth.db-journal", "models", "backups", "calibration",
    "documents.db", "documents.db-wal", "documents.db-shm", "documents.db-journal",  # the document index
    CRASH_REPORTS, UPDATE_CHECK, WELCOMED,
)  # fmt: skip
CONFIG_ENTRIES = ("models.toml", ".models.toml-*.part", ".models-*.toml")


@dataclass
class Erased:
    """What was erased, and what was found but left (the user's own files, links not followed)."""

    erased: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def erase_user_data(paths: UserPaths) -> Erased:
    """Erase, and say what was erased and kept; a keychain that refuses does not keep the folders."""
    names = sorted(keys.key_names(paths) | {SERVER_KEY_NAME})  # read before the configuration goes
    result = Erased()
    _erase_folder(paths.data, DATA_ENTRIES, result)
    _erase_folder(paths.config, CONFIG_ENTRIES, result)
    if keys.keychain_problem() is not None:
        return result  # no keychain: Hearth cannot have stored a key in one
    refused = []
    for name in names:
        try:
            if keys.delete_key(name):
                result.erased.append(f"API key '{name}'")
        except HearthError as exc:
            refused.append(f"'{name}' ({exc})")
    if refused:
        done = "; ".join(result.erased) or "nothing else"
        raise HearthError(f"Erased {done}, but these API keys are still in the keychain: {', '.join(refused)}.")
    return result


def _erase_folder(folder: Path, own: tuple[str, ...], result: Erased) -> None:
    if folder.is_symlink():
        result.kept.append(
            f"{folder}: it is a link to {os.path.realpath(folder)}, which Hearth does not follow. "
            "Delete that folder yourself if it holds only Hearth's data"
        )
        return
    if not folder.is_dir():
        return
    try:
        entries = sorted(folder.iterdir())
    except OSError as exc:
        raise HearthError(f"Cannot read {folder} to erase it: {exc.strerror or exc}.") from None
    mine = [entry for entry in entries if any(fnmatch.fnmatchcase(entry.name, pattern) for pattern in own)]
    others = [entry for entry in entries if entry not in mine]
    for entry in mine:
        _remove(entry)
    if others:
        result.erased += [str(entry) for entry in mine]
        listed = ", ".join(entry.name + ("/" if entry.is_dir() else "") for entry in others)
        result.kept.append(f"{folder}: files Hearth did not create are still there ({listed})")
        return
    folder.rmdir()
    result.erased.append(str(folder))


def _remove(entry: Path) -> None:
    """Remove a file, a folder with everything in it, or a link (only the link)."""
    try:
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    except OSError as exc:
        raise HearthError(f"Cannot erase {entry}: {exc.strerror or exc}.") from None
