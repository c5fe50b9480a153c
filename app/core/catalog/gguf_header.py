"""Reading a GGUF file's metadata from its first bytes, without downloading the model.

A GGUF file starts with its key/value metadata (architecture, layer count, heads,
context length, the tokenizer's vocabulary) before any tensor, so a Range request for
the first few megabytes is enough. The reader is a few dozen lines of ``struct``: the
``gguf`` package's reader memory-maps a whole local file (and needs numpy), which is
the opposite of what a header read over the network wants. When the metadata is longer
than what was fetched (a large vocabulary), the next bytes are asked for and parsing
starts again, up to a limit.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from app.core.errors import FetchError

MAGIC = b"GGUF"
FIRST_READ = 4 << 20  # bytes asked for first: enough for most vocabularies
MOST_READ = 64 << 20  # a header longer than this is not read
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9
_KEPT_ARRAY = 64  # longer arrays (token lists, scores) are skipped and only their length kept

Value = int | float | bool | str | list["Value"]


class NotGguf(FetchError):
    """The bytes are not a GGUF file Hearth can read."""


class _Truncated(Exception):
    """More bytes are needed to finish the metadata."""


@dataclass(frozen=True)
class GgufHeader:
    version: int
    tensor_count: int
    metadata: dict[str, Value]  # long arrays appear as their length (an int), under the same key
    header_bytes: int  # where the metadata ends
    file_size: int | None  # the whole file's size, when the server said it


class _Cursor:
    def __init__(self, data: bytes):
        self.data = data
        self.at = 0

    def take(self, size: int) -> bytes:
        end = self.at + size
        if end > len(self.data):
            raise _Truncated
        chunk = self.data[self.at : end]
        self.at = end
        return chunk

    def unpack(self, fmt: str) -> int | float | bool:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]  # type: ignore[no-any-return]

    def string(self) -> str:
        return self.take(int(self.unpack("<Q"))).decode("utf-8", errors="replace")

    def value(self, kind: int) -> Value:
        if kind in _SCALARS:
            return self.unpack(_SCALARS[kind])
        if kind == _STRING:
            return self.string()
        if kind == _ARRAY:
            item_kind, count = int(self.unpack("<I")), int(self.unpack("<Q"))
            if count > _KEPT_ARRAY:
                self.skip(item_kind, count)
                return count
            return [self.value(item_kind) for _ in range(count)]
        raise NotGguf(f"the metadata has a value of unknown type {kind}")

    def skip(self, kind: int, count: int) -> None:
        if kind in _SCALARS:
            self.take(struct.calcsize(_SCALARS[kind]) * count)
        elif kind == _STRING:
            for _ in range(count):
                self.take(int(self.unpack("<Q")))
        else:
            for _ in range(count):
                self.value(kind)


def parse_header(data: bytes, file_size: int | None = None) -> GgufHeader:
    """The metadata in ``data`` (a file's first bytes); raises _Truncated when it goes on past them."""
    cursor = _Cursor(data)
    if cursor.take(4) != MAGIC:
        raise NotGguf("the file does not start with 'GGUF'")
    version = int(cursor.unpack("<I"))
    if version not in (2, 3):
        raise NotGguf(f"GGUF version {version} is not one Hearth reads (2 or 3)")
    tensor_count, kv_count = int(cursor.unpack("<Q")), int(cursor.unpack("<Q"))
    metadata: dict[str, Value] = {}
    for _ in range(kv_count):
        key = cursor.string()
        metadata[key] = cursor.value(int(cursor.unpack("<I")))
    return GgufHeader(version, tensor_count, metadata, cursor.at, file_size)


def read_header(read: Callable[[int, int], tuple[bytes, int | None]], what: str) -> GgufHeader:
    """Parse the metadata from ``read(start, end)`` (bytes start..end-1, and the file size), reading more as needed."""
    data = b""
    size: int | None = None
    want = FIRST_READ
    while True:
        chunk, size = read(len(data), want)
        data += chunk
        try:
            return parse_header(data, size)
        except _Truncated:
            if len(data) < want or want >= MOST_READ:  # the file ended, or the header is too long to be real
                raise NotGguf(f"the metadata of {what} ends before it is complete, or is over 64 MB") from None
            want *= 2


def read_local_header(path: str) -> GgufHeader:
    """The metadata of a GGUF file on disk."""
    import os

    def read(start: int, end: int) -> tuple[bytes, int | None]:
        with open(path, "rb") as handle:
            handle.seek(start)
            return handle.read(end - start), os.fstat(handle.fileno()).st_size

    return read_header(read, path)


def read_remote_header(http: httpx.Client, url: str) -> GgufHeader:
    """The metadata of the GGUF file at ``url``, from HTTP Range requests for its first bytes only."""

    def read(start: int, end: int) -> tuple[bytes, int | None]:
        with http.stream("GET", url, headers={"Range": f"bytes={start}-{end - 1}"}) as response:
            if response.status_code not in (200, 206):
                raise FetchError(f"Reading the start of {url} failed: the server answered HTTP {response.status_code}.")
            body = b""
            for block in response.iter_bytes():  # a server that ignores Range sends everything: stop early
                body += block
                if len(body) >= end - (0 if response.status_code == 200 else start):
                    break
            if response.status_code == 200:
                length = response.headers.get("Content-Length")
                return body[start:end], int(length) if length else None
            total = response.headers.get("Content-Range", "").rpartition("/")[2]
            return body[: end - start], int(total) if total.isdigit() else None

    try:
        return read_header(read, url)
    except httpx.HTTPError as exc:
        raise FetchError(
            f"Could not read the start of {url}: {exc}. Check your network connection and try again."
        ) from None
