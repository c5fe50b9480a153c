"""Redaction before anything leaves the machine, with placeholders that can be put back.

Found and replaced: e-mail addresses, phone numbers, payment card numbers
(only when the Luhn checksum holds), IBANs (only when the ISO 13616 mod-97
check holds) and IP addresses (v4 and v6). Each distinct value gets a stable
placeholder such as ``[EMAIL_1]``; the reply is restored by putting the
values back, so the user reads the real ones.

Names and street addresses are not found: the libraries that do it well
(Presidio, spaCy) need language models this project cannot ship; the consent
step shows the exact text that would leave, so the user sees what remains.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}\b")
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
_PHONE = re.compile(r"(?<![\w+-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){2,5}(?![\w-])")


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card(text: str) -> bool:
    digits = re.sub(r"\D", "", text)
    return 13 <= len(digits) <= 19 and _luhn(digits)


def _iban(text: str) -> bool:
    compact = text.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def _ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


_DATE = re.compile(r"^(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})$")


def _phone(text: str) -> bool:
    """7 to 15 digits, written like a phone number: grouped, or with a country code (a bare
    run of digits is more often a count or an identifier)."""
    digits = re.sub(r"\D", "", text)
    written_as_phone = text.startswith("+") or bool(re.search(r"[ .()-]", text))
    return 7 <= len(digits) <= 15 and written_as_phone and not _DATE.match(text)


# Order matters: a card or IBAN must not be taken for a phone number.
DETECTORS: list[tuple[str, re.Pattern[str], Callable[[str], bool]]] = [
    ("EMAIL", _EMAIL, lambda _: True),
    ("IBAN", _IBAN, _iban),
    ("CARD", _CARD, _card),
    ("IP", _IPV4, _ip),
    ("IP", _IPV6, _ip),
    ("PHONE", _PHONE, _phone),
]


@dataclass
class Redaction:
    """The placeholders of one conversation: the same value always gets the same placeholder."""

    values: dict[str, str] = field(default_factory=dict)  # placeholder -> original
    _by_value: dict[str, str] = field(default_factory=dict)
    _counts: dict[str, int] = field(default_factory=dict)

    def redact(self, text: str) -> str:
        for kind, pattern, valid in DETECTORS:
            text = pattern.sub(lambda m, kind=kind, valid=valid: self._replace(kind, m.group(0), valid), text)
        return text

    def _replace(self, kind: str, value: str, valid: Callable[[str], bool]) -> str:
        stripped = value.strip()
        if stripped.startswith("[") or not valid(stripped):
            return value
        if stripped not in self._by_value:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            placeholder = f"[{kind}_{self._counts[kind]}]"
            self._by_value[stripped] = placeholder
            self.values[placeholder] = stripped
        return value.replace(stripped, self._by_value[stripped])

    def restore(self, text: str) -> str:
        for placeholder, value in self.values.items():
            text = text.replace(placeholder, value)
        return text

    @property
    def found(self) -> dict[str, int]:
        """How many distinct values of each kind were replaced."""
        return dict(self._counts)
