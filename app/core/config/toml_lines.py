"""Find the line of a key in a TOML document.

tomllib gives values without positions, so validation errors (raised later, by
pydantic) would only know the key path. This small scanner maps each key path
to the line where it is written, so an error can say "line 12, key
'models.smollm.n_ctx'". It follows table headers, arrays of tables (by index)
and keys of inline tables; lines inside multi-line strings are skipped.
"""

from __future__ import annotations

import re

KeyPath = tuple[str | int, ...]

_BARE_OR_QUOTED = re.compile(r'\s*("(?:[^"\\]|\\.)*"|\'[^\']*\'|[A-Za-z0-9_\-]+)\s*')
_INLINE_KEY = re.compile(r'[{,]\s*("(?:[^"\\]|\\.)*"|[A-Za-z0-9_\-]+)\s*=')


def _split_key(text: str) -> tuple[str, ...]:
    parts: list[str] = []
    for piece in re.finditer(_BARE_OR_QUOTED, text):
        token = piece.group(1)
        parts.append(token[1:-1] if token[0] in "\"'" else token)
    return tuple(parts)


def _without_comment(line: str) -> str:
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return line[:i]
    return line


def key_lines(text: str) -> dict[KeyPath, int]:
    lines: dict[KeyPath, int] = {}
    table: KeyPath = ()
    array_index: dict[KeyPath, int] = {}
    in_multiline = ""
    for number, raw in enumerate(text.splitlines(), start=1):
        if in_multiline:
            if in_multiline in raw:
                in_multiline = ""
            continue
        line = _without_comment(raw).strip()
        if not line:
            continue
        if line.startswith("[["):
            name = _split_key(line[2 : line.find("]]")])
            index = array_index.get(name, -1) + 1
            array_index[name] = index
            table = name + (index,)
            lines.setdefault(name, number)
            lines[table] = number
        elif line.startswith("["):
            table = _split_key(line[1 : line.find("]")])
            for depth in range(1, len(table) + 1):
                lines.setdefault(table[:depth], number)
        elif "=" in line:
            key_text, value = line.split("=", 1)
            path = table + _split_key(key_text)
            lines[path] = number
            for inline in _INLINE_KEY.finditer(value):
                token = inline.group(1)
                lines.setdefault(path + (token.strip('"'),), number)
            for fence in ('"""', "'''"):
                if value.count(fence) == 1:
                    in_multiline = fence
    return lines


def line_of(lines: dict[KeyPath, int], path: KeyPath) -> int | None:
    """The line of ``path``, or of the closest enclosing table that is written down."""
    for depth in range(len(path), 0, -1):
        if path[:depth] in lines:
            return lines[path[:depth]]
    return None
