"""Answers are Markdown: turn them into the HTML subset QTextDocument draws, with nothing to load or run.

markdown-it-py parses (CommonMark, plus tables and strikethrough); raw HTML
in an answer is shown as text, never interpreted. Nothing the answer writes
becomes an address Qt would use: an image is shown as its description (a
link to it, opened like any other only after asking), and each link's
address is kept aside in ``Rendered.links`` while the HTML links to its
number in the window's own scheme (app/ui/message_actions.py).

Code blocks are highlighted by Pygments with inline colours (QTextDocument
has no style sheet classes), wrap their long lines, and get a header with the
language and a Copy link; the caller keeps the blocks' source to put on the
clipboard. A long answer is rendered in pieces (app/ui/message_pieces.py): a
piece that continues a code block begun in an earlier one has no header, and
its code belongs to that block.
"""

from __future__ import annotations

import functools
import html
import threading
from dataclasses import dataclass, field
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from app.ui.message_actions import MessageAction, href


@dataclass(frozen=True)
class CodeTheme:
    pygments_style: str
    background: str
    header: str
    header_text: str
    inline_background: str


LIGHT_CODE = CodeTheme("friendly", "#f6f3ee", "#ebe5dc", "#6b6158", "#efe9e1")
DARK_CODE = CodeTheme("monokai", "#272822", "#3a3b35", "#b8b2a8", "#3a3833")
# Their lexers are loaded ahead (warm_up): a lexer's first use builds its rules, tens of milliseconds.
COMMON_LANGUAGES = ("python", "javascript", "typescript", "bash", "json", "html", "css", "sql", "java", "c", "cpp")


@dataclass
class Rendered:
    html: str
    code_blocks: list[str] = field(default_factory=list)  # the first one continues the block before, if asked
    links: list[str] = field(default_factory=list)  # the addresses the answer's links point to, by number


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
    continued = env["continues_code"] and not blocks
    blocks.append(code)
    coloured = highlight(code, _lexer(language), env["formatter"]).rstrip("\n") if code else ""
    body = f'<tr><td colspan="2"><pre style="font-family:monospace; white-space:pre-wrap;">{coloured}</pre></td></tr>'
    table = f'<table width="100%" cellspacing="0" cellpadding="6" bgcolor="{theme.background}">'
    if continued:
        return f"{table}{body}</table>"
    number = env["first_block"] + len(blocks) - (2 if env["continues_code"] else 1)
    label = html.escape(language or "code")
    return (
        f'{table}<tr><td bgcolor="{theme.header}"><span style="color:{theme.header_text};">{label}</span></td>'
        f'<td bgcolor="{theme.header}" align="right"><a href="{href(MessageAction.COPY_CODE, number)}">Copy</a></td>'
        f"</tr>{body}</table>"
    )


def _link_open(_renderer: object, tokens: list[Token], index: int, _options: object, env: dict[str, Any]) -> str:
    """The address stays aside: the HTML names only its number."""
    links: list[str] = env["links"]
    links.append(str(tokens[index].attrGet("href") or ""))
    return f'<a href="{href(MessageAction.OPEN_LINK, len(links) - 1)}">'


def _image(renderer: Any, tokens: list[Token], index: int, options: object, env: dict[str, Any]) -> str:
    """Never loaded: the image's description, as a link to its address."""
    token = tokens[index]
    links: list[str] = env["links"]
    links.append(str(token.attrGet("src") or ""))
    description = html.escape(renderer.renderInlineAsText(token.children or [], options, env) or "image")
    return f'<a href="{href(MessageAction.OPEN_LINK, len(links) - 1)}">[image: {description}]</a>'


def _code_inline(_renderer: object, tokens: list[Token], index: int, _options: object, env: dict[str, Any]) -> str:
    code = html.escape(tokens[index].content)
    background = env["theme"].inline_background
    return f'<code style="font-family:monospace; background-color:{background};">{code}</code>'


_PARSER = MarkdownIt("commonmark", {"html": False, "breaks": True}).enable(["table", "strikethrough"])
_PARSER.add_render_rule("fence", _fence)
_PARSER.add_render_rule("code_block", _fence)
_PARSER.add_render_rule("code_inline", _code_inline)
_PARSER.add_render_rule("link_open", _link_open)
_PARSER.add_render_rule("image", _image)
_PARSER.add_render_rule("table_open", lambda *_: '<table border="1" cellspacing="0" cellpadding="4">\n')


@functools.cache
def _formatter(style: str) -> HtmlFormatter:
    """Building one resolves the whole style (about 1 ms): once per look, not per render."""
    return HtmlFormatter(noclasses=True, nowrap=True, style=style)


def _warm_up() -> None:
    for theme in (LIGHT_CODE, DARK_CODE):
        for language in COMMON_LANGUAGES:
            highlight("x", _lexer(language), _formatter(theme.pygments_style))


@functools.cache
def warm_up_in_background() -> None:
    """Build the commonest languages' lexers and both looks' formatters before an answer needs them: once."""
    threading.Thread(target=_warm_up, name="hearth-lexers", daemon=True).start()


def render(
    markdown: str, theme: CodeTheme = LIGHT_CODE, first_block: int = 0, continues_code: bool = False
) -> Rendered:
    """HTML for ``markdown``; an unfinished code fence (mid-stream) renders as a code block too.

    ``first_block`` is the number of the first code block that starts here;
    ``continues_code``: the first fence continues the block before it.
    """
    env: dict[str, Any] = {
        "theme": theme,
        "blocks": [],
        "links": [],
        "first_block": first_block,
        "continues_code": continues_code,
        "formatter": _formatter(theme.pygments_style),
    }
    return Rendered(_PARSER.render(markdown, env), env["blocks"], env["links"])
