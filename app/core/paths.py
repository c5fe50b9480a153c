"""Where Hearth keeps user files.

By default the platform's per-user directories (platformdirs). Setting
``HEARTH_HOME`` moves everything (data, config, models) under one folder,
for tests and portable installs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "Hearth"
HOME_ENV = "HEARTH_HOME"
UPDATE_CHECK = "update-check.json"  # in the data folder: the last update check's result
WELCOMED = "welcomed"  # in the data folder: the welcome was shown
CRASH_REPORTS = "crash-reports"  # in the data folder: app/core/system/crash_reports.py


@dataclass(frozen=True)
class UserPaths:
    data: Path
    config: Path

    @property
    def models(self) -> Path:
        return self.data / "models"

    @property
    def calibration(self) -> Path:
        """Fitted confidence models, one JSON file per model."""
        return self.data / "calibration"

    @property
    def cache(self) -> Path:
        """What Hearth can work out again, kept to save time (which llama.cpp CPU module runs here)."""
        return self.data / "cache"

    @property
    def backups(self) -> Path:
        return self.data / "backups"

    @property
    def database(self) -> Path:
        return self.data / "hearth.db"

    @property
    def user_config_file(self) -> Path:
        return self.config / "models.toml"

    def ensure(self) -> None:
        """Create the folders, readable by this user only (also when an older Hearth made them wider)."""
        for folder in (self.data, self.config, self.models):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            if os.name == "posix" and folder.stat().st_mode & 0o077:
                folder.chmod(0o700)


def user_paths() -> UserPaths:
    home = os.environ.get(HOME_ENV)
    if home:
        root = Path(home).expanduser()
        return UserPaths(data=root / "data", config=root / "config")
    return UserPaths(
        data=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        config=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
    )


def bundled(name: str) -> Path:
    """A file shipped with Hearth: inside the installed package, or at the repo root."""
    package_dir = Path(__file__).resolve().parent.parent
    installed = package_dir / "bundled" / name
    if installed.exists():
        return installed
    return package_dir.parent / name
