"""Files attached to a message: images go to models that see images, text files into the message.

Every file is checked before anything is stored or sent: an image must be
one (its first bytes, not just its name), a text file must be UTF-8 text
without NUL bytes, and neither may be larger than a sane message.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from app.core.errors import HearthError
from app.core.user_files import check_regular, read_regular

MAX_IMAGE_BYTES = 20_000_000
MAX_TEXT_BYTES = 1_000_000

_IMAGE_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
}
_IMAGE_SUFFIXES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}


class AttachmentError(HearthError):
    pass


@dataclass(frozen=True)
class TextFile:
    name: str
    content: str


@dataclass(frozen=True)
class Attachments:
    images: tuple[Path, ...] = ()
    texts: tuple[TextFile, ...] = ()

    def message_text(self, text: str) -> str:
        """The message with each text file appended in a fenced block named after the file."""
        blocks = [text] + [f"Attached file {file.name}:\n````\n{file.content}\n````" for file in self.texts]
        return "\n\n".join(block for block in blocks if block)


def _read(path: Path, limit: int) -> bytes:
    """An ordinary file's bytes, up to ``limit`` (a device or a pipe is refused before it is opened)."""
    size = check_regular(path).st_size
    if size > limit:
        raise AttachmentError(
            f"{path.name} is {size / 1e6:.1f} MB; Hearth attaches files up to {limit / 1e6:.0f} MB. "
            "Attach a part of it instead."
        )
    return read_regular(path, limit, "attachment")


def image_url(path: Path) -> str:
    """The image as a data: URL, after checking it really is the image its name says."""
    kind = _IMAGE_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise AttachmentError(f"{path.name} is not an image Hearth can attach (PNG, JPEG, GIF or WebP).")
    data = _read(path, MAX_IMAGE_BYTES)
    if not data.startswith(_IMAGE_SIGNATURES[kind]):
        raise AttachmentError(f"{path.name} is named like an image but its contents are not a {kind} image.")
    return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"


def text_file(path: Path) -> TextFile:
    data = _read(path, MAX_TEXT_BYTES)
    if b"\x00" in data:
        raise AttachmentError(f"{path.name} is not a text file (it contains binary data); it was not attached.")
    try:
        return TextFile(path.name, data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise AttachmentError(f"{path.name} is not UTF-8 text; save it as UTF-8 and attach it again.") from None


def is_image(path: Path) -> bool:
    return path.suffix.lower() in _IMAGE_SUFFIXES


def sort_attachments(paths: Sequence[Path]) -> Attachments:
    """Images by their name; everything else must be text. Raises AttachmentError for the first bad file."""
    images = tuple(path for path in paths if is_image(path))
    for path in images:
        image_url(path)
    texts = tuple(text_file(path) for path in paths if not is_image(path))
    return Attachments(images, texts)
