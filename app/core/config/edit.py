"""Changing ``models.toml`` from the window, keeping the user's comments and layout.

Every change is made on the TOML text with tomlkit, validated exactly as at
start-up (errors name the line and key), and only then written to the user
copy, atomically: a failed save leaves the old file as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError

from app.core.config.load import config_file, parse_config, read_config_text
from app.core.config.schema import Config
from app.core.errors import ConfigError, FileError
from app.core.paths import UserPaths
from app.core.user_files import write_regular


def current_text(paths: UserPaths) -> str:
    """The configuration in force: the user's copy, or the default shipped with Hearth."""
    return read_config_text(config_file(paths))


def _document(text: str, file: Path) -> tomlkit.TOMLDocument:
    try:
        return tomlkit.parse(text)
    except TOMLKitError as exc:
        raise ConfigError(f"is not valid TOML: {exc}", file=file, line=getattr(exc, "line", None)) from None


def with_values(text: str, file: Path, sections: Mapping[str, Mapping[str, Any]]) -> str:
    """``text`` with ``sections[table][key] = value`` set; a value of None removes the key."""
    document = _document(text, file)
    for name, values in sections.items():
        table = document.get(name)
        if table is None:
            table = tomlkit.table()
            document[name] = table
        for key, value in values.items():
            if value is None:
                table.pop(key, None)
            else:
                table[key] = value
    return tomlkit.dumps(document)


def with_local_model(text: str, file: Path, name: str, model: Mapping[str, Any]) -> str:
    """``text`` with model ``name`` defined and answering first in the first (local) tier."""
    document = _document(text, file)
    models = document.setdefault("models", tomlkit.table(is_super_table=True))
    entry = tomlkit.table()
    for key, value in model.items():
        entry[key] = value
    models[name] = entry
    tiers = document.get("tiers")
    if not tiers:
        raise ConfigError("there is no tier to put the model in", file=file, key="tiers")
    first = tiers[0]
    first["models"] = [name] + [m for m in first["models"] if m != name]
    return tomlkit.dumps(document)


def save(paths: UserPaths, text: str) -> Config:
    """Validate ``text`` and write it as the user's configuration; returns what it configures."""
    target = paths.user_config_file
    config = parse_config(text, target)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        write_regular(target, text.encode("utf-8"))
    except FileError as exc:
        raise ConfigError(f"cannot be written ({exc})", file=target) from None
    return config
