"""Reading ``models.toml`` into a Config.

The file at the repository root (bundled with installs) is the default. A
user copy at ``<config dir>/models.toml`` replaces it entirely. Loading is all
or nothing: a broken file raises ConfigError naming the file, the line and the
key, and nothing starts half-configured.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from app.core.config.schema import Config, KeyProblem
from app.core.config.toml_lines import KeyPath, key_lines, line_of
from app.core.errors import ConfigError, FileError
from app.core.nested_text import TooDeep, read_toml
from app.core.paths import UserPaths, bundled
from app.core.user_files import read_regular


def default_config_file() -> Path:
    return bundled("models.toml")


def config_file(paths: UserPaths) -> Path:
    user = paths.user_config_file
    return user if user.exists() else default_config_file()


def load_config(paths: UserPaths) -> Config:
    return load_config_file(config_file(paths))


def load_config_file(file: Path) -> Config:
    return parse_config(read_config_text(file), file)


def read_config_text(file: Path) -> str:
    """The text of a configuration file (an ordinary file, UTF-8)."""
    if not file.exists():
        raise ConfigError("the file does not exist", file=file)
    try:
        return read_regular(file).decode("utf-8")
    except (FileError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot be read ({exc})", file=file) from None


def parse_config(text: str, file: Path) -> Config:
    """``text`` as a Config; ``file`` is only named in errors."""
    try:
        data = read_toml(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise ConfigError(f"is not valid TOML: {exc}", file=file, line=int(match.group(1)) if match else None) from None
    except TooDeep:
        raise ConfigError(
            "nests arrays or tables too deeply to be read; no Hearth setting goes more than a few levels deep",
            file=file,
        ) from None
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise _translate(exc, data, text, file) from None


def _translate(exc: ValidationError, data: dict[str, Any], text: str, file: Path) -> ConfigError:
    error = exc.errors()[0]
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, KeyProblem):  # its path is under the model that raised it
        path, message = _path_in_data(tuple(error["loc"]) + cause.path, data), str(cause)
    else:
        loc = tuple(error["loc"])
        if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc += (error["ctx"]["discriminator"].strip("'"),)
        path = _path_in_data(loc, data)
        message = _describe(error)
    others = len(exc.errors()) - 1
    if others:
        message += f" (and {others} more problem{'s' if others > 1 else ''})"
    return ConfigError(
        message,
        file=file,
        line=line_of(key_lines(text), path),
        key=".".join(str(part) for part in path) or None,
    )


def _path_in_data(loc: tuple[Any, ...], data: Any) -> KeyPath:
    """Drop the union tags pydantic puts in ``loc`` (e.g. 'llama-cpp'), keep real keys."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        elif isinstance(node, dict) and part in (node.get("provider"), node.get("kind")):
            continue
        else:
            node = None
        path.append(part)
    return tuple(path)


def _describe(error: Any) -> str:
    kind = error["type"]
    if kind == "missing":
        return "this required key is missing"
    if kind == "extra_forbidden":
        return "unknown key (check its spelling)"
    if kind == "union_tag_invalid":
        return f"'{error['ctx']['tag']}' is not one of {error['ctx']['expected_tags']}"
    if kind == "union_tag_not_found":
        return "this required key is missing"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    return f"{error['msg']} (got {_shown(error.get('input'))})"


def _shown(value: Any, limit: int = 120) -> str:
    """A value from the file as the message shows it: its repr, cut short (a file may hold anything)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 1]}…"
