"""The one error tree of Hearth.

Every error carries a message a user can act on: which file, which line,
which setting, what to do. Errors from lower libraries (httpx, llama.cpp,
sqlite3, tomllib, pydantic) are translated once, where Hearth calls them.

    HearthError
    ├── ConfigError            models.toml is unreadable or invalid (file, line, key)
    ├── DataError              an evaluation or import file is unreadable or invalid (file, line)
    ├── InvalidInput           something the user gave cannot be used (a title, a file to import)
    │   ├── FileError          a path names no ordinary file, a missing folder, or one too large; a disk is full
    │   └── DocumentError      a document of a collection cannot be read (which file, why)
    │   └── TooLong            a request to the local API is longer than the model can read
    ├── ModelError             a local model cannot be used
    │   ├── ModelMissingError  the GGUF file is not on disk
    │   └── ModelLoadError     llama.cpp refused the file (corrupt, truncated, too large), or no CPU module runs
    ├── FetchError             downloading a model failed (network, checksum)
    │   └── FetchStopped       the user paused or cancelled the download
    ├── NotFound               no conversation or message with that id
    ├── StorageError           the database cannot be written or read (disk full, read-only, damaged)
    ├── DamagedRecord          one stored row breaks Hearth's rules (an older bug, a hand edit): which, and why
    ├── GateClosed             nothing was sent to a destination: the policy, a missing key, the budget or you said no
    │   └── ConsentUnavailable a program asked through the local API, and no window is open to ask you
    ├── NoStrongerModel        "ask a stronger model" has no higher tier that may answer
    ├── QueueFull              the local API has as many requests waiting as it may keep
    └── ProviderError          a tier could not answer (provider, retryable)
        ├── ProviderUnreachable    connection refused, DNS failure
        ├── ProviderTimeout        connect, first token or idle stream timeout
        ├── ProviderAuthError      bad or missing key (401/403)
        ├── ProviderNoCredit       the account has no credit left (402, insufficient_quota)
        ├── ProviderRateLimited    429, with retry_after seconds when given
        ├── ProviderNotFound       nothing at that address (404): a wrong URL or model name
        ├── ProviderOverloaded     529/503: the service is busy (retryable)
        ├── ProviderContextTooLong the conversation is longer than the model accepts
        ├── ProviderRefused        the model declined to answer (safety, policy)
        ├── ProviderRejected       other 4xx/5xx answers
        └── ProviderStreamError    the stream was malformed or cut short

Each error says the status ``hearth`` exits with (``exit_code``): 1, or 2 for a configuration to fix first.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar


class HearthError(Exception):
    """Base of every error Hearth shows to a user."""

    exit_code: ClassVar[int] = 1  # the status a command that ends with this error exits with


class ConfigError(HearthError):
    exit_code: ClassVar[int] = 2  # nothing runs until the configuration is fixed

    def __init__(self, message: str, *, file: Path, line: int | None = None, key: str | None = None):
        self.file = file
        self.line = line
        self.key = key
        where = str(file)
        if line is not None:
            where += f", line {line}"
        if key:
            where += f", key '{key}'"
        super().__init__(f"{where}: {message}")


class DataError(HearthError):
    def __init__(self, message: str, *, file: Path, line: int | None = None):
        self.file = file
        self.line = line
        super().__init__(f"{file}{f', line {line}' if line else ''}: {message}")


class StorageError(HearthError):
    def __init__(self, message: str, *, file: Path):
        self.file = file
        super().__init__(message)


class DamagedRecord(HearthError):
    """One conversation cannot be read; the others can (the database itself is sound)."""


class InvalidInput(HearthError):
    pass


class FileError(InvalidInput):
    pass


class DocumentError(InvalidInput):
    """One document cannot be read; the rest of its collection is indexed."""


class TooLong(InvalidInput):
    pass


class NotFound(HearthError):
    pass


class ModelError(HearthError):
    pass


class ModelMissingError(ModelError):
    pass


class ModelLoadError(ModelError):
    pass


class FetchError(HearthError):
    pass


class FetchStopped(FetchError):
    """The user paused or cancelled a download (raised from its progress callback)."""


class GateClosed(HearthError):
    """The outgoing gate kept a request on this computer; the message says why."""


class ConsentUnavailable(GateClosed):
    """The policy asks before this goes out, and there is no one to ask (the API runs without a window)."""


class QueueFull(HearthError):
    pass


class NoStrongerModel(HearthError):
    def __init__(self, why: str, *, configured: bool):
        self.why = why
        self.configured = configured  # False: only the local tier exists, so one must be added first
        super().__init__(f"No stronger model can answer this: {why}")


class ProviderError(HearthError):
    def __init__(self, message: str, *, provider: str, retryable: bool = False):
        self.provider = provider
        self.retryable = retryable
        super().__init__(f"{provider}: {message}")


class ProviderUnreachable(ProviderError):
    def __init__(self, message: str, *, provider: str):
        super().__init__(message, provider=provider, retryable=True)


class ProviderTimeout(ProviderError):
    def __init__(self, message: str, *, provider: str):
        super().__init__(message, provider=provider, retryable=True)


class ProviderAuthError(ProviderError):
    def __init__(self, message: str, *, provider: str):
        super().__init__(message, provider=provider, retryable=False)


class ProviderNoCredit(ProviderError):
    def __init__(self, message: str, *, provider: str):
        super().__init__(message, provider=provider, retryable=False)


class ProviderNotFound(ProviderError):
    def __init__(self, message: str, *, provider: str):
        super().__init__(message, provider=provider, retryable=False)


class ProviderRateLimited(ProviderError):
    def __init__(self, message: str, *, provider: str, retry_after: float | None):
        self.retry_after = retry_after
        super().__init__(message, provider=provider, retryable=True)


class ProviderOverloaded(ProviderError):
    def __init__(self, message: str, *, provider: str, retry_after: float | None = None):
        self.retry_after = retry_after
        super().__init__(message, provider=provider, retryable=True)


class ProviderContextTooLong(ProviderError):
    def __init__(self, message: str, *, provider: str):
        super().__init__(message, provider=provider, retryable=False)


class ProviderRefused(ProviderError):
    def __init__(self, message: str, *, provider: str):
        super().__init__(message, provider=provider, retryable=False)


class ProviderRejected(ProviderError):
    pass


class ProviderStreamError(ProviderError):
    pass
