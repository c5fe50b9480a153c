"""Text out of the user's files, in sections that know their heading, page or line.

Kept libraries, each the usual choice for its format and none of them loading
anything from the network or running anything in the file:

- Markdown: markdown-it-py (already Hearth's Markdown parser): headings are found
  by parsing, so a ``#`` inside a code block is not taken for one.
- HTML: Beautiful Soup with Python's own ``html.parser`` (no native parser to ship);
  scripts and styles are dropped, nothing is fetched.
- PDF: pypdf, pure Python (no native library per OS for the installers), page by page.
- DOCX: python-docx; paragraphs in "Heading N" styles are the headings.
- Plain text and source code: read as UTF-8 (undecodable bytes replaced).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.core.errors import DocumentError, FileError
from app.core.user_files import read_regular

MAX_FILE_BYTES = 50 * 1024 * 1024  # a larger file is left out, and the scan says so

MARKDOWN = {".md", ".markdown", ".mdown"}
HTML = {".html", ".htm", ".xhtml"}
TEXT = {".txt", ".text", ".rst", ".org", ".csv", ".log", ".tex"}
CODE = {
    ".py", ".pyi", ".js", ".jsx", ".ts", ".tsx", ".c", ".h", ".cc", ".cpp", ".hpp", ".cs", ".java", ".kt",
    ".go", ".rs", ".rb", ".php", ".swift", ".m", ".scala", ".sh", ".bash", ".ps1", ".sql", ".r", ".lua",
    ".toml", ".yaml", ".yml", ".json", ".ini", ".cfg", ".css", ".scss", ".xml", ".mk", ".cmake",
}  # fmt: skip


@dataclass(frozen=True)
class Section:
    """A stretch of a document under one heading, on one page (PDF) or from one line (text, code)."""

    text: str
    heading: str | None = None
    page: int | None = None
    line: int | None = None


def supported(path: Path) -> bool:
    suffix = path.suffix.lower()
    return suffix in MARKDOWN | HTML | TEXT | CODE or suffix in {".pdf", ".docx"}


def extract(path: Path) -> list[Section]:
    """The sections of ``path``; raises DocumentError, naming the file, when it cannot be read.

    The file is read once, as an ordinary file (a pipe or a device is refused, never waited on),
    and each reader parses those bytes: what was checked is what is read.
    """
    suffix = path.suffix.lower()
    try:
        data = read_regular(path, MAX_FILE_BYTES, "document")
    except FileError as exc:
        raise DocumentError(f"{path}: left out ({exc})") from None
    reader = _READERS.get(suffix, _plain)
    try:
        sections = reader(data)
    except DocumentError as exc:
        raise DocumentError(f"{path}: {exc}") from None
    except Exception as exc:  # a damaged PDF or DOCX: each library has its own errors
        raise DocumentError(f"{path}: not a readable {suffix.lstrip('.').upper()} file ({exc}).") from None
    return [section for section in sections if section.text.strip()]


def _read_text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace").replace("\r\n", "\n")


def _plain(data: bytes) -> list[Section]:
    return [Section(_read_text(data), line=1)]


def _markdown(data: bytes) -> list[Section]:
    from markdown_it import MarkdownIt

    source = _read_text(data)
    lines = source.split("\n")
    tokens = MarkdownIt("commonmark").parse(source)
    starts: list[tuple[int, int, str]] = []  # first line, level, title
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.map:
            starts.append((token.map[0], int(token.tag[1]), tokens[index + 1].content.strip()))
    sections: list[Section] = []
    if not starts or starts[0][0] > 0:
        first = starts[0][0] if starts else len(lines)
        sections.append(Section("\n".join(lines[:first]), line=1))
    trail: list[tuple[int, str]] = []  # the headings above this one: "Install › Linux"
    for position, (start, level, title) in enumerate(starts):
        end = starts[position + 1][0] if position + 1 < len(starts) else len(lines)
        trail = [(lvl, name) for lvl, name in trail if lvl < level] + [(level, title)]
        heading = " › ".join(name for _, name in trail)
        sections.append(Section("\n".join(lines[start:end]), heading=heading, line=start + 1))
    return sections


_BLOCKS = ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "td", "th", "dt", "dd", "blockquote", "figcaption"]


def _html(data: bytes) -> list[Section]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(data, "html.parser")
    for hidden in soup(["script", "style", "noscript", "template", "head"]):
        hidden.decompose()
    sections: list[Section] = []
    heading: str | None = soup.title.get_text(" ", strip=True) if soup.title else None
    texts: list[str] = []
    for element in soup.find_all(_BLOCKS):
        if element.find_parent(_BLOCKS):
            continue  # its text is part of the enclosing block
        text = element.get_text(" ", strip=True)
        if element.name in _BLOCKS[:6]:
            sections.append(Section("\n\n".join(texts), heading=heading))
            heading, texts = text, [text]
        elif text:
            texts.append(text)
    sections.append(Section("\n\n".join(texts), heading=heading))
    if not any(section.text.strip() for section in sections):
        sections = [Section(soup.get_text("\n", strip=True), heading=heading)]
    return sections


def _pdf(data: bytes) -> list[Section]:
    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # damaged-but-readable files warn per object
    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted and not reader.decrypt(""):
        raise DocumentError("the PDF is protected by a password, so it cannot be read.")
    return [Section(page.extract_text() or "", page=number) for number, page in enumerate(reader.pages, start=1)]


def _docx(data: bytes) -> list[Section]:
    import docx

    document = docx.Document(io.BytesIO(data))
    sections: list[Section] = []
    heading: str | None = None
    texts: list[str] = []
    for paragraph in document.paragraphs:
        style = paragraph.style.name if paragraph.style is not None else ""
        if style.startswith("Heading") or style == "Title":
            sections.append(Section("\n\n".join(texts), heading=heading))
            heading, texts = paragraph.text.strip(), [paragraph.text.strip()]
        elif paragraph.text.strip():
            texts.append(paragraph.text.strip())
    for table in document.tables:
        texts.extend(" | ".join(cell.text.strip() for cell in row.cells) for row in table.rows)
    sections.append(Section("\n\n".join(texts), heading=heading))
    return sections


_READERS: dict[str, Callable[[bytes], list[Section]]] = {
    **{suffix: _markdown for suffix in MARKDOWN},
    **{suffix: _html for suffix in HTML},
    ".pdf": _pdf,
    ".docx": _docx,
}
