"""Asking whether a newer Hearth has been released. Off unless the user turns it on.

When on (``[updates] check = true``), Hearth makes one HTTPS GET to ``[updates] url``
(GitHub's API for Hearth's latest release), at most once a day, when the window
starts; "Check now" in About makes the same request once. The request carries no
cookies, no identifier and nothing from any conversation: only the headers
``User-Agent: Hearth/<version>`` and ``Accept: application/vnd.github+json``. The
server sees the computer's IP address, as with any connection. Nothing is
downloaded or installed: Hearth says that a release exists and links to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.core.errors import HearthError
from app.core.paths import UPDATE_CHECK

CHECK_EVERY = timedelta(days=1)
# A release's tag is a short version ("v1.10.2"). A longer one is refused as no release: read
# as a number, a tag of thousands of digits raises, and the answer is remembered for a day.
MOST_VERSION_CHARS = 64


class UpdateCheckError(HearthError):
    pass


class Release(BaseModel):
    """The part of GitHub's "latest release" answer Hearth reads."""

    model_config = ConfigDict(extra="ignore")
    tag_name: str = Field(max_length=MOST_VERSION_CHARS)
    html_url: str
    name: str | None = None


class LastCheck(BaseModel):
    """What the previous check found, kept in the data folder."""

    checked_at: datetime
    latest: str = Field(max_length=MOST_VERSION_CHARS)
    url: str


@dataclass(frozen=True)
class UpdateStatus:
    current: str
    latest: str
    url: str
    checked_at: datetime

    @property
    def newer_available(self) -> bool:
        return version_key(self.latest) > version_key(self.current)

    def describe(self) -> str:
        if self.newer_available:
            return f"Hearth {self.latest} is available (you have {self.current})."
        return f"Hearth {self.current} is the latest release."


def version_key(version: str) -> tuple[int, ...]:
    """'v1.10.2' -> (1, 10, 2); a version without numbers sorts first."""
    return tuple(int(part) for part in re.findall(r"\d+", version.split("-")[0].split("+")[0]))


def request_headers(current: str) -> dict[str, str]:
    """Everything the check sends besides the URL itself."""
    return {"User-Agent": f"Hearth/{current}", "Accept": "application/vnd.github+json"}


def disclosure(url: str, current: str) -> str:
    """What turning the check on means, in the words the window shows."""
    sent = "; ".join(f"{name}: {value}" for name, value in request_headers(current).items())
    return (
        f"Hearth asks {httpx.URL(url).host} for the latest release, at most once a day when it starts "
        f"(HTTPS GET {url}). It sends only these headers: {sent}. The server sees your IP address. "
        "Nothing about you or your conversations is sent, and nothing is downloaded or installed."
    )


def check(url: str, current: str) -> UpdateStatus:
    """Ask ``url`` for the latest release: one request, TLS verified, no cookies, no redirects followed."""
    try:
        response = httpx.get(url, headers=request_headers(current), timeout=10.0, follow_redirects=False)
        response.raise_for_status()
        if len(response.content) > 1_000_000:
            raise UpdateCheckError(f"{url} answered with {len(response.content)} bytes; a release is far smaller.")
        release = Release.model_validate_json(response.content)
    except httpx.HTTPStatusError as exc:
        raise UpdateCheckError(f"{url} answered {exc.response.status_code}; try again later.") from None
    except httpx.HTTPError as exc:
        raise UpdateCheckError(f"Could not reach {httpx.URL(url).host}: {exc}.") from None
    except ValidationError:
        raise UpdateCheckError(f"{url} did not answer with a release.") from None
    return UpdateStatus(current, release.tag_name.removeprefix("v"), release.html_url, datetime.now(UTC))


def check_and_remember(url: str, current: str, folder: Path) -> UpdateStatus:
    status = check(url, current)
    remember(folder, status)
    return status


def last_check(folder: Path, current: str) -> UpdateStatus | None:
    try:
        saved = LastCheck.model_validate_json((folder / UPDATE_CHECK).read_text(encoding="utf-8"))
    except (OSError, ValueError):  # missing, damaged or not UTF-8 (ValidationError is a ValueError): ask again
        return None
    return UpdateStatus(current, saved.latest, saved.url, saved.checked_at)


def remember(folder: Path, status: UpdateStatus) -> None:
    record = LastCheck(checked_at=status.checked_at, latest=status.latest, url=status.url)
    (folder / UPDATE_CHECK).write_text(record.model_dump_json(), encoding="utf-8")


def due(previous: UpdateStatus | None, now: datetime) -> bool:
    return previous is None or now - previous.checked_at >= CHECK_EVERY
