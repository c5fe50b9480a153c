"""models.toml and the settings, fuzzed: every generated file is a valid configuration or a clear
error that names where the problem is, never a crash."""

from __future__ import annotations

import copy
import math
import tomllib
from pathlib import Path
from typing import Any

import tomlkit
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from app.core.config import edit as config_edit
from app.core.config.load import default_config_file, parse_config
from app.core.config.schema import Config
from app.core.errors import ConfigError

FILE = Path("/home/someone/.config/Hearth/models.toml")
DEFAULT_TEXT = default_config_file().read_text(encoding="utf-8")
DEFAULT = tomllib.loads(DEFAULT_TEXT)
EXAMPLES = 2000

# None is left out: TOML cannot write it (a deletion stands in for it).
scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["local-only", "cloud-auto", "llama-cpp", "openai-compatible", "https://x.org", "", "0"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=8,
)


def outcome(text: str) -> Config | ConfigError:
    """What Hearth does with the file: anything but a Config or a ConfigError fails the test."""
    try:
        config = parse_config(text, FILE)
    except ConfigError as exc:
        event("a clear error")
        return exc
    event("a valid configuration")
    return config


def paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            found += paths(value, prefix + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += paths(value, prefix + (index,))
    return found


def mutate(data: dict, path: tuple, action: str, value: Any) -> dict:
    data = copy.deepcopy(data)
    parent = data
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if action == "delete":
        del parent[last]
    elif action == "replace":
        parent[last] = value
    elif isinstance(parent, dict):
        parent[f"{last}_extra"] = value
    return data


def to_toml(data: dict) -> str | None:
    """None where TOML cannot say it (None values, NaN keys...): such a file cannot be written."""
    try:
        return tomlkit.dumps(data)
    except (TypeError, ValueError):
        return None


@st.composite
def spliced_default(draw: st.DrawFn) -> str:
    """The default file with a stretch cut out and something typed in its place."""
    start = draw(st.integers(0, len(DEFAULT_TEXT)))
    end = draw(st.integers(start, min(len(DEFAULT_TEXT), start + 80)))
    return DEFAULT_TEXT[:start] + draw(st.text(max_size=20)) + DEFAULT_TEXT[end:]


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400) | spliced_default())
def test_any_text_is_a_configuration_or_an_error_naming_the_file(text: str):
    result = outcome(text)
    if isinstance(result, ConfigError):
        assert str(result).startswith(str(FILE))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_mutated_default_file_is_valid_or_names_the_key_or_line(data: st.DataObject):
    changed = DEFAULT
    for _ in range(data.draw(st.integers(1, 3))):
        targets = paths(changed)
        if not targets:
            break
        path = data.draw(st.sampled_from(targets))
        changed = mutate(changed, path, data.draw(st.sampled_from(["delete", "replace", "add"])), data.draw(values))
    text = to_toml(changed)
    if text is None:
        event("not writable as TOML")
        return
    result = outcome(text)
    if isinstance(result, ConfigError):
        message = str(result)
        assert ", line " in message or ", key '" in message, message
        assert "Traceback" not in message and len(message) < 1000


@settings(max_examples=EXAMPLES // 2, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    # Mostly what the dialog's widgets produce, sometimes anything at all.
    threshold=st.floats(0.0, 1.0) | st.floats(allow_nan=True, allow_infinity=True),
    budget=st.none() | st.floats(0.0, 1000.0) | st.floats(allow_nan=True, allow_infinity=True),
    tokens=st.integers(1, 32768) | st.integers(min_value=-(2**40), max_value=2**40),
    prompt=st.text(max_size=200),
    theme=st.sampled_from(["system", "light", "dark"]) | st.text(max_size=10),
    size=st.integers(8, 24) | st.integers(min_value=-100, max_value=100),
)
def test_settings_as_the_dialog_saves_them_are_valid_or_refused_with_the_key(
    threshold: float, budget: float | None, tokens: int, prompt: str, theme: str, size: int
):
    sections = {
        "settings": {
            "threshold": threshold,
            "monthly_budget": budget,
            "max_answer_tokens": tokens,
            "system_prompt": prompt,
        },
        "appearance": {"theme": theme, "font_size": size},
    }
    try:
        text = config_edit.with_values(DEFAULT_TEXT, FILE, sections)
    except ValueError:  # TOML has no way to write this value (not a Hearth concern)
        return
    result = outcome(text)
    if isinstance(result, ConfigError):
        assert ", key '" in str(result), str(result)
    else:
        assert result.settings.system_prompt == prompt and result.appearance.font_size == size
        assert 0 <= result.settings.threshold <= 1 and not math.isnan(result.settings.threshold)


def test_a_file_that_is_not_utf8_is_a_clear_error(tmp_path: Path):
    from app.core.config.load import load_config_file

    broken = tmp_path / "models.toml"
    broken.write_bytes(b'[settings]\nprivacy = "\xff\xfe"\n')
    try:
        load_config_file(broken)
    except ConfigError as exc:
        assert str(exc).startswith(str(broken))
    else:
        raise AssertionError("a file that is not UTF-8 was accepted")
