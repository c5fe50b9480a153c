"""Where a model runs, as a privacy policy reads it."""

from __future__ import annotations

from enum import StrEnum


class Location(StrEnum):
    LOCAL = "local"
    SELF_HOSTED = "self-hosted"
    CLOUD = "cloud"
