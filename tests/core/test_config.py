"""models.toml: the default loads, a user copy replaces it, and mistakes are pinpointed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.core.config.load import default_config_file, load_config, load_config_file, parse_config
from app.core.config.schema import Privacy
from app.core.errors import ConfigError
from app.core.paths import user_paths
from tests.conftest import REPO, write_user_config

DEFAULT = default_config_file().read_text(encoding="utf-8")


def uncommented(text: str, first_line: str) -> str:
    """The commented example that starts with ``first_line`` in the default file, as live TOML."""
    lines = text.splitlines()
    start = lines.index(f"#   {first_line}")
    block = []
    for line in lines[start:]:
        if not line.startswith("#   "):
            break
        block.append(line.removeprefix("#   "))
    return "\n".join(block) + "\n"


# The default file with its self-hosted example switched on, as a user would.
WITH_SERVER = DEFAULT + "\n" + uncommented(DEFAULT, "[[tiers]]") + "\n" + uncommented(DEFAULT, "[models.home-server]")


def broken(tmp_path: Path, text: str) -> ConfigError:
    file = tmp_path / "models.toml"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config_file(file)
    assert caught.value.file == file
    assert str(file) in str(caught.value)
    return caught.value


def line_number(text: str, needle: str) -> int:
    """The first line, not a comment, that holds ``needle``."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line and not line.startswith("#"))


def test_the_shipped_models_toml_is_private_by_default():
    config = load_config_file(default_config_file())
    assert config.settings.privacy is Privacy.LOCAL_ONLY
    assert config.tiers[0].name == "local"
    first = config.models[config.tiers[0].models[0]]
    assert first.provider == "llama-cpp" and first.source is not None and first.sha256


def test_the_shipped_models_toml_points_at_no_server_the_user_never_set_up():
    config = load_config_file(default_config_file())
    assert [tier.name for tier in config.tiers] == ["local"]
    assert all(model.provider == "llama-cpp" for model in config.models.values())


def test_its_commented_examples_work_once_switched_on(tmp_path: Path):
    examples = [uncommented(DEFAULT, f"[models.{name}]") for name in ("home-server", "gpt", "claude", "gemini")]
    file = tmp_path / "models.toml"
    file.write_text(WITH_SERVER + "\n".join(examples[1:]), encoding="utf-8")
    config = load_config_file(file)
    assert [tier.name for tier in config.tiers] == ["local", "self-hosted"]
    assert {n: m.location for n, m in config.models.items() if n not in ("smollm2-135m", "all-minilm-l6-v2")} == {
        "home-server": "self-hosted",
        "gpt": "cloud",
        "claude": "cloud",
        "gemini": "cloud",
    }


def test_a_user_copy_replaces_the_default(hearth_home: Path):
    write_user_config(hearth_home, DEFAULT.replace('privacy = "local-only"', 'privacy = "local-and-self-hosted"'))
    assert load_config(user_paths()).settings.privacy is Privacy.SELF_HOSTED


def test_without_a_user_copy_the_default_is_used(hearth_home: Path):
    assert load_config(user_paths()).settings.privacy is Privacy.LOCAL_ONLY


def test_invalid_toml_names_the_line(tmp_path: Path):
    text = DEFAULT.replace("n_ctx = 2048", "n_ctx = = 2048")
    error = broken(tmp_path, text)
    assert error.line == line_number(text, "n_ctx = = 2048")


def test_a_wrong_type_names_the_key_and_its_line(tmp_path: Path):
    text = DEFAULT.replace("n_ctx = 2048", 'n_ctx = "big"')
    error = broken(tmp_path, text)
    assert error.key == "models.smollm2-135m.n_ctx"
    assert error.line == line_number(text, 'n_ctx = "big"')
    assert f"line {error.line}" in str(error) and "models.smollm2-135m.n_ctx" in str(error)


def test_a_misspelt_key_is_reported_not_ignored(tmp_path: Path):
    text = DEFAULT.replace("threshold = 0.3", "treshold = 0.3")
    error = broken(tmp_path, text)
    assert error.key == "settings.treshold"
    assert error.line == line_number(text, "treshold = 0.3")
    assert "unknown key" in str(error)


def test_an_out_of_range_threshold_is_refused(tmp_path: Path):
    text = DEFAULT.replace("threshold = 0.3", "threshold = 1.5")
    error = broken(tmp_path, text)
    assert error.key == "settings.threshold" and error.line == line_number(text, "threshold = 1.5")


def test_a_tier_naming_an_unknown_model_points_at_the_tier(tmp_path: Path):
    text = WITH_SERVER.replace('models = ["home-server"]', 'models = ["home-srever"]')
    error = broken(tmp_path, text)
    assert error.key == "tiers.1.models"
    assert error.line == line_number(text, 'models = ["home-srever"]')
    assert "home-srever" in str(error)


def test_a_missing_required_key_points_at_its_table(tmp_path: Path):
    text = WITH_SERVER.replace('base_url = "http://192.168.1.20:8080/v1"\n', "")
    error = broken(tmp_path, text)
    assert error.key == "models.home-server.base_url"
    assert error.line == line_number(text, "[models.home-server]")
    assert "missing" in str(error)


def test_an_unknown_provider_is_named(tmp_path: Path):
    text = WITH_SERVER.replace('provider = "openai-compatible"', 'provider = "openai"')
    error = broken(tmp_path, text)
    assert error.key == "models.home-server.provider"
    assert error.line == line_number(text, 'provider = "openai"')


def test_a_cloud_service_cannot_be_called_self_hosted(tmp_path: Path):
    # The privacy policy is decided on the location: api.openai.com labelled "self-hosted" would leave
    # under "local-and-self-hosted" and without a question under "cloud-with-consent".
    text = WITH_SERVER.replace("http://192.168.1.20:8080/v1", "https://eu.api.openai.com/v1")
    error = broken(tmp_path, text)
    assert error.key == "models.home-server.base_url"
    assert "OpenAI's cloud service" in str(error) and "'cloud'" in str(error)
    # Its own server on any other address stays the user's to place, and the cloud label is always allowed.
    for address, where in (("https://llm.example.org/v1", "self-hosted"), ("https://api.openai.com/v1", "cloud")):
        text = WITH_SERVER.replace("http://192.168.1.20:8080/v1", address).replace(
            'location = "self-hosted"', f'location = "{where}"'
        )
        (tmp_path / "models.toml").write_text(text, encoding="utf-8")
        assert load_config_file(tmp_path / "models.toml").models["home-server"].location == where


def test_a_bad_value_inside_an_inline_table_is_located(tmp_path: Path):
    text = DEFAULT.replace('kind = "pypi-wheel"', 'kind = "ftp"')
    error = broken(tmp_path, text)
    assert error.key == "models.smollm2-135m.source.kind"
    assert error.line == line_number(text, 'kind = "ftp"')


def test_the_command_line_refuses_to_start_half_configured(hearth_home: Path):
    write_user_config(hearth_home, DEFAULT.replace("n_ctx = 2048", "n_ctx = -5"))
    result = subprocess.run(
        [sys.executable, "-m", "app", "ask", "hello"], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert result.returncode == 2
    assert "configuration error" in result.stderr and "models.smollm2-135m.n_ctx" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (hearth_home / "data" / "hearth.db").exists()


def test_a_huge_wrong_value_is_named_without_being_echoed_whole(tmp_path: Path):
    text = default_config_file().read_text().replace("redact = true", "redact = [" + '"yes", ' * 500 + "]", 1)
    with pytest.raises(ConfigError) as raised:
        parse_config(text, tmp_path / "models.toml")
    assert "key 'settings.redact'" in str(raised.value) and len(str(raised.value)) < 400
