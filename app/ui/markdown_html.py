"""Answers are Markdown: turn them into the HTML subset QTextDocument draws.

markdown-it-py parses (CommonMark, plus tables and strikethrough); raw HTML
in an answer is shown as text, never interpreted. Code blocks are highlighted
by Pygments with inline colours (QTextDocument has no style sheet classes)
and get a header with the language and a ``copy:N`` link; the caller keeps
the blocks' source to put on the clipboard.
"""

from __future__ import annotations

import functools
import html
from dataclasses import dataclass, field
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound


@dataclass(frozen=True)
class CodeTheme:
    pygments_style: str
    background: str
    header: str
    header_text: str
    inline_background: str


LIGHT_CODE = CodeTheme("friendly", "#f6f3ee", "#ebe5dc", "#6b6158", "#efe9e1")
DARK_CODE = CodeTheme("monokai", "#272822", "#3a3b35", "#b8b2a8", "#3a3833")


@dataclass
class Rendered:
    html: str
    code_blocks: list[str] = field(default_factory=list)


def _lexer(language: str) -> Lexer:
    """The fence's language; unmarked code stays plain (guessing costs tens of ms per block)."""
    try:
        return get_lexer_by_name(language or "text")
    except ClassNotFound:
        return get_lexer_by_name("text")


def _fence(_renderer: object, tokens: list[Token], index: int, _options: object, env: dict[str, Any]) -> str:
    token = tokens[index]
    theme: CodeTheme = env["theme"]
    blocks: list[str] = env["blocks"]
    code = token.content.rstrip("\n")
    language = token.info.strip().split(" ")[0] if token.info else ""
    number = len(blocks)
    blocks.append(code)
    coloured = highlight(code, _lexer(language), env["formatter"]).rstrip("\n") if code else ""
    label = html.escape(language or "code")
    return (
        f'<table width="100%" cellspacing="0" cellpadding="6" bgcolor="{theme.background}">'
        f'<tr><td bgcolor="{theme.header}"><span style="color:{theme.header_text};">{label}</span></td>'
        f'<td bgcolor="{theme.header}" align="right"><a href="copy:{number}">Copy</a></td></tr>'
        f'<tr><td colspan="2"><pre style="font-family:monospace;">{coloured}</pre></td></tr></table>'
    )


def _code_inline(_renderer: object, tokens: list[Token], index: int, _options: object, env: dict[str, Any]) -> str:
    code = html.escape(tokens[index].content)
    background = env["theme"].inline_background
    return f'<code style="font-family:monospace; background-color:{background};">{code}</code>'


_PARSER = MarkdownIt("commonmark", {"html": False, "breaks": True}).enable(["table", "strikethrough"])
_PARSER.add_render_rule("fence", _fence)
_PARSER.add_render_rule("code_block", _fence)
_PARSER.add_render_rule("code_inline", _code_inline)
_PARSER.add_render_rule("table_open", lambda *_: '<table border="1" cellspacing="0" cellpadding="4">\n')


@functools.cache
def _formatter(style: str) -> HtmlFormatter:
    """Building one resolves the whole style (about 1 ms): once per look, not per render."""
    return HtmlFormatter(noclasses=True, nowrap=True, style=style)


def render(markdown: str, theme: CodeTheme = LIGHT_CODE) -> Rendered:
    """HTML for ``markdown``; an unfinished code fence (mid-stream) renders as a code block too."""
    env: dict[str, Any] = {"theme": theme, "blocks": [], "formatter": _formatter(theme.pygments_style)}
    return Rendered(_PARSER.render(markdown, env), env["blocks"])
