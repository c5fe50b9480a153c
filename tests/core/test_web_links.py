"""Before a link from an answer opens, the user is told the site it really leads to."""

from __future__ import annotations

import pytest

from app.core.web_links import web_link


@pytest.mark.parametrize(
    ("written", "host", "opened"),
    [
        ("https://example.com/page?q=1#top", "example.com", "https://example.com/page?q=1#top"),
        ("HTTP://Example.COM:8080/a", "example.com", "http://example.com:8080/a"),
        ("http://[::1]:8080/", "[::1]", "http://[::1]:8080/"),
    ],
)
def test_a_plain_web_address_opens_as_written(written: str, host: str, opened: str):
    link = web_link(written)
    assert link is not None and (link.host, link.address) == (host, opened)
    assert not link.disguised


@pytest.mark.parametrize(
    ("written", "host"),
    [
        ("https://mybank.example@evil.example/login", "evil.example"),  # a user name, not the site
        ("https://mybank.example:secret@evil.example/", "evil.example"),
        ("https://%65vil.example/", "evil.example"),  # the browser decodes the host
        ("https://myb\u0430nk.example/", "xn--mybnk-6ve.example"),  # a Cyrillic "а" among Latin letters
    ],
)
def test_a_link_dressed_as_another_site_names_the_site_it_leads_to(written: str, host: str):
    link = web_link(written)
    assert link is not None and link.disguised
    assert link.host == host
    assert link.address.startswith(f"https://{host}/")  # what opens is where the user was told


@pytest.mark.parametrize(
    "written",
    [
        "javascript:alert(1)",
        "file:///etc/passwd",
        "action:stronger",
        "https://",
        "https://example.com\\@evil.example/",  # browsers read a backslash as a slash
        "https://exa mple.com/",
        "https://example.com\u202e/moc.live",  # a bidirectional override
        "https://example.com:port/",
        "https://ex<a>mple.com/",
    ],
)
def test_anything_but_a_readable_web_address_is_not_opened(written: str):
    assert web_link(written) is None
