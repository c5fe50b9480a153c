"""Redaction before anything leaves the machine, with placeholders that can be put back.

Found and replaced: e-mail addresses (internationalised domains too), phone
numbers (international, and national ones as people write them), payment card
numbers (only when the Luhn checksum holds), IBANs (only with their country's
length and the ISO 13616 mod-97 check) and IP addresses (v4 and v6). Matching
runs on the folded text (app/core/privacy/text_folding.py: full-width forms, no-break
and thin spaces, zero-width characters, other dashes and dots), and what is
replaced is the user's own text at the same place. Each distinct value (the
same card with or without spaces counts once) gets a stable placeholder such
as ``[EMAIL_1]``; the reply is restored by putting the user's values back.

Look-alikes stay: dates, versions and section numbers, amounts, order and
meeting numbers, and checksum failures are not personal data. A phone number
written without a country code or trunk prefix counts only next to a word such
as "call" or "phone"; next to "order" or "invoice" none does.

Names and street addresses are not found: the libraries that do it well
(Presidio, spaCy) need language models this project cannot ship; the consent
step shows the exact text that would leave, so the user sees what remains.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache

from app.core.privacy.text_folding import fold

# Matching runs on folded text: digits are ASCII, spaces plain, dashes "-", dots ".".
_EMAIL = re.compile(
    r"(?<![\w.+'-])\w[\w.+'-]*@(?:[^\W_](?:[\w-]*[^\W_])?\.)+(?P<tld>[^\W\d_]{2,}|xn--[a-z0-9-]+)(?![\w@-])",
    re.IGNORECASE,
)
# File names such as logo@2x.png look like addresses; no such top-level domain takes mail.
_FILE_TLDS = {"png", "jpg", "jpeg", "gif", "svg", "webp", "pdf", "txt", "css", "js", "json", "html", "md", "py"}
_IBAN_START = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}")
_CARD = re.compile(r"(?<![\d.,])\d{3,19}(?:(?: {1,2}|[.-])\d{3,6}){0,4}(?!\d|[.,-]\d)")
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-F]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-F]{0,4})(?![\w:])", re.IGNORECASE
)
_PHONE_PART = r"(?:\(\d{1,4}\)|\d{1,12})"
_PHONE_SEP = r"(?:[ .\-/]{1,2}|(?<=\))|(?=\())"
_PHONE = re.compile(rf"(?<![A-Za-z0-9_+.\-/(])\+?{_PHONE_PART}(?:{_PHONE_SEP}{_PHONE_PART}){{0,7}}(?![A-Za-z0-9_])")
_DATE = re.compile(r"(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})")
_NANP = re.compile(r"(?:1[ .-]?)?(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}")
_WORD = re.compile(r"[^\W\d_]+")

# Words just before a number that say what it is.
_PHONE_WORDS = (
    "call", "phone", "tel", "mobil", "cell", "number", "ring", "text", "sms", "whatsapp", "fax", "contact",
    "reach", "dial", "hotline", "handy", "ruf", "anruf", "portable", "fixe", "appel", "numéro", "numero",
    "nummer", "numer", "móvil", "movil", "llám", "llam", "chiama", "bel", "电话", "電話", "携帯",
)  # fmt: skip
_NOT_PHONE_WORDS = {
    "order", "invoice", "inv", "ref", "reference", "isbn", "issn", "tracking", "parcel", "id", "meeting",
    "ticket", "serial", "sku", "case", "account", "receipt", "transaction", "booking", "confirmation",
    "version", "build", "code", "postal", "postcode", "zip", "room", "population",
}  # fmt: skip
_NOT_IP_WORDS = {"version", "ver", "v", "section", "chapter", "release", "build", "step", "figure", "table", "rule"}

# Length of an IBAN in each country of the SWIFT IBAN registry.
_IBAN_LENGTHS = {
    country: int(length)
    for country, length in re.findall(
        r"([A-Z]{2})(\d{2})",
        "AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DK18 DO28 EE20 EG29 "
        "ES24 FI18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HR21 HU28 IE22 IL23 IQ23 IS26 IT27 JO30 KW30 KZ20 "
        "LB28 LC32 LI21 LT20 LU20 LV21 MC27 MD24 ME22 MK19 MR27 MT31 MU30 NL18 NO15 PK24 PL28 PS29 PT25 QA29 "
        "RO24 RS22 SA24 SC31 SE24 SI19 SK24 SM27 ST25 SV28 TL23 TN24 TR26 UA29 VA22 VG24 XK20",
    )
}


@dataclass(frozen=True)
class Found:
    """One value: its span in the original text, its kind, and a key that is the same however it is written."""

    start: int
    end: int
    kind: str
    key: str


def _words_before(text: str, start: int, count: int = 3) -> list[str]:
    return [word.lower() for word in _WORD.findall(text[max(0, start - 40) : start])][-count:]


def _emails(text: str) -> Iterator[tuple[int, int, str]]:
    for match in _EMAIL.finditer(text):
        if match.group("tld").lower() not in _FILE_TLDS:
            yield match.start(), match.end(), match.group(0).casefold()


@cache
def _iban_rest(length: int) -> re.Pattern[str]:
    """The rest of an IBAN after its first four characters: ``length`` letters or digits, in groups."""
    return re.compile(rf"(?:(?: {{1,2}}|-)?[A-Za-z0-9]){{{length}}}(?![A-Za-z0-9])")


def _ibans(text: str) -> Iterator[tuple[int, int, str]]:
    position = 0
    while match := _IBAN_START.search(text, position):
        position = match.start() + 1
        length = _IBAN_LENGTHS.get(match.group(0)[:2].upper())
        rest = _iban_rest(length - 4).match(text, match.end()) if length else None
        if rest is None:
            continue
        compact = re.sub(r"[ -]", "", text[match.start() : rest.end()]).upper()
        rearranged = compact[4:] + compact[:4]
        if int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1:
            yield match.start(), rest.end(), compact
            position = rest.end()


def _luhn(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        digit = int(char)
        if i % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _cards(text: str) -> Iterator[tuple[int, int, str]]:
    """Groups of digits that hold a card number, the longest first (a CVV or a year may follow one)."""
    for match in _CARD.finditer(text):
        ends = [group.end() for group in re.finditer(r"\d+", match.group(0))]
        for end in reversed(ends):
            digits = re.sub(r"\D", "", match.group(0)[:end])
            if 13 <= len(digits) <= 19 and _luhn(digits):
                yield match.start(), match.start() + end, digits
                break


def _ipv4s(text: str) -> Iterator[tuple[int, int, str]]:
    for match in _IPV4.finditer(text):
        parts = [int(part) for part in match.group(0).split(".")]
        if all(part <= 255 for part in parts) and not set(_words_before(text, match.start(), 1)) & _NOT_IP_WORDS:
            yield match.start(), match.end(), ".".join(map(str, parts))


def _ipv6s(text: str) -> Iterator[tuple[int, int, str]]:
    for match in _IPV6.finditer(text):
        try:
            address = ipaddress.IPv6Address(match.group(0))
        except ValueError:
            continue
        yield match.start(), match.end(), address.compressed


def _phones(text: str) -> Iterator[tuple[int, int, str]]:
    for match in _PHONE.finditer(text):
        if _phone(match.group(0), _words_before(text, match.start())):
            yield match.start(), match.end(), re.sub(r"\D", "", match.group(0))


def _phone(written: str, before: list[str]) -> bool:
    """Whether digits written like this, after these words, are a phone number (7 to 15 digits)."""
    digits = re.sub(r"\D", "", written)
    if not 7 <= len(digits) <= 15 or _DATE.fullmatch(written):
        return False
    if written.startswith("+"):
        return True
    if set(before) & _NOT_PHONE_WORDS:
        return False
    if digits.startswith("00"):
        return len(digits) >= 10  # 00 and a country code, the international prefix
    if digits.startswith("0"):
        return 9 <= len(digits) <= 12  # a national number with its trunk prefix
    if _NANP.fullmatch(written):
        return True
    return any(word.startswith(_PHONE_WORDS) for word in before)


# Order matters: what an earlier kind found is not looked at again (a card is not also a phone number).
DETECTORS: list[tuple[str, Callable[[str], Iterator[tuple[int, int, str]]]]] = [
    ("EMAIL", _emails),
    ("IBAN", _ibans),
    ("CARD", _cards),
    ("IP", _ipv6s),  # first: an IPv6 address may end in an IPv4 one
    ("IP", _ipv4s),
    ("PHONE", _phones),
]
_TAKEN = "\ufffc"  # stands in for found text, so that no later kind sees it


def find(text: str) -> list[Found]:
    """Every value in ``text``, in order, as spans of ``text`` itself."""
    folded = fold(text)
    searched = folded.text
    found: list[Found] = []
    for kind, detect in DETECTORS:
        pieces: list[str] = []
        done = 0
        for start, end, key in list(detect(searched)):
            found.append(Found(*folded.original_span(start, end), kind, key))
            pieces += [searched[done:start], _TAKEN * (end - start)]
            done = end
        searched = "".join(pieces) + searched[done:]
    return sorted(found, key=lambda item: item.start)


@dataclass
class Redaction:
    """The placeholders of one conversation: the same value always gets the same placeholder."""

    values: dict[str, str] = field(default_factory=dict)  # placeholder -> the value as the user wrote it
    _by_key: dict[tuple[str, str], str] = field(default_factory=dict)
    _counts: dict[str, int] = field(default_factory=dict)

    def redact(self, text: str) -> str:
        pieces: list[str] = []
        done = 0
        for item in find(text):
            pieces += [text[done : item.start], self._placeholder(item, text[item.start : item.end])]
            done = item.end
        return "".join(pieces) + text[done:]

    def _placeholder(self, item: Found, written: str) -> str:
        key = (item.kind, item.key)
        if key not in self._by_key:
            self._counts[item.kind] = self._counts.get(item.kind, 0) + 1
            placeholder = f"[{item.kind}_{self._counts[item.kind]}]"
            self._by_key[key] = placeholder
            self.values[placeholder] = written
        return self._by_key[key]

    def restore(self, text: str) -> str:
        for placeholder, value in self.values.items():
            text = text.replace(placeholder, value)
        return text

    @property
    def found(self) -> dict[str, int]:
        """How many distinct values of each kind were replaced."""
        return dict(self._counts)
