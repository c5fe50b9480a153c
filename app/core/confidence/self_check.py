"""Requests whose answer Hearth can work out itself, and whether the model's answer agrees.

Two kinds, both common in a chat and both where small models go wrong most
confidently: simple arithmetic ("What is 34 times 59?", "12.5 / 4 =") and
sorting a list of words alphabetically. For them no token probability is as
good as doing the sum: ``check`` returns True where the answer states Hearth's
own result, False where it states another, and None where the request is not
one of these or the answer states no result at all.

The reading is deliberately narrow. A request counts as arithmetic only when
every number in it belongs to one expression of numbers, + - * / (or the
words plus, minus, times, multiplied by, divided by) and parentheses: "3
apples plus 2 pears", "50 % of 20", "2 to the power of 3" or a date beside a
sum are left alone. Hearth computes with exact fractions, on numbers of at
most 15 digits, and never evaluates the text as code.
"""

from __future__ import annotations

import re
from decimal import Decimal, localcontext
from fractions import Fraction

MAX_CHARS = 2_000  # longer requests are not simple sums or short lists
MAX_DIGITS = 15
MAX_DEPTH = 20  # parentheses
SHOWN_DIGITS = 30  # a result is shown beside the answer up to this many digits
MAX_WORDS = 200

# Written operators, rewritten as symbols before the expression is read.
_OPERATOR_WORDS = (
    (re.compile(r"\bmultiplied\s+by\b", re.IGNORECASE), "*"),
    (re.compile(r"\bdivided\s+by\b", re.IGNORECASE), "/"),
    (re.compile(r"\btimes\b", re.IGNORECASE), "*"),
    (re.compile(r"\bplus\b", re.IGNORECASE), "+"),
    (re.compile(r"\bminus\b", re.IGNORECASE), "-"),
    (re.compile(r"(?<=[0-9])\s*[x×]\s*(?=[0-9]+\b)"), "*"),
    (re.compile(r"÷"), "/"),
    (re.compile(r"[−–]"), "-"),
)
_THOUSANDS = re.compile(r"(?<=[0-9]),(?=[0-9]{3}\b)")
_RUN = re.compile(r"[0-9.+\-*/()\s]+")
_TOKEN = re.compile(r"[0-9]+(?:\.[0-9]+)?|[-+*/()]")
# A number as an answer writes it: a sign only where it is not an operator ("12-21=-9" writes 12, 21
# and -9), and a/b one number.
_WRITTEN = re.compile(r"(?<![0-9)])(-?[0-9]+(?:\.[0-9]+)?)(?:\s*/\s*([0-9]+)(?![0-9.]))?")


def _normalised(text: str) -> str:
    for pattern, symbol in _OPERATOR_WORDS:
        text = pattern.sub(symbol, text)
    return _THOUSANDS.sub("", text)


class _Expression:
    """A recursive-descent reading of + - * / and parentheses over exact fractions."""

    def __init__(self, tokens: list[str]):
        self.tokens = tokens
        self.at = 0

    def value(self) -> Fraction | None:
        try:
            result = self._sum()
        except (ValueError, ZeroDivisionError, IndexError, RecursionError):
            return None  # RecursionError: a thousand minus signs in a row
        return result if self.at == len(self.tokens) else None

    def _peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def _take(self) -> str:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def _sum(self) -> Fraction:
        value = self._product()
        while self._peek() in ("+", "-"):
            value = value + self._product() if self._take() == "+" else value - self._product()
        return value

    def _product(self) -> Fraction:
        value = self._unary()
        while self._peek() in ("*", "/"):
            value = value * self._unary() if self._take() == "*" else value / self._unary()
        return value

    def _unary(self) -> Fraction:
        token = self._take()
        if token == "-":
            return -self._unary()
        if token == "(":
            value = self._sum()
            if self._take() != ")":
                raise ValueError("unbalanced parenthesis")
            return value
        if not token[0].isdigit() or len(token.replace(".", "")) > MAX_DIGITS:
            raise ValueError(f"not a number: {token}")
        return Fraction(token)


def arithmetic_result(question: str) -> Fraction | None:
    """The value of the one arithmetic expression the request is about, or None."""
    if len(question) > MAX_CHARS:
        return None
    runs = [run.strip(" \t\r\n.") for run in _RUN.findall(_normalised(question))]
    runs = [run for run in runs if any(c.isdigit() for c in run)]
    if len(runs) != 1:
        return None
    tokens = _TOKEN.findall(runs[0])
    if "".join(tokens) != re.sub(r"\s+", "", runs[0]) or not any(t in "+-*/" for t in tokens[1:]):
        return None  # stray characters (a lone dot), or just a number
    if tokens.count("(") > MAX_DEPTH:
        return None
    return _Expression(tokens).value()


def _written_numbers(text: str, given: set[Fraction]) -> list[tuple[Fraction, str]]:
    """Each number the text writes, with how it wrote it; a/b of two given numbers is a restated division."""
    found: list[tuple[Fraction, str]] = []
    for match in _WRITTEN.finditer(_THOUSANDS.sub("", text)):
        whole, below = match.group(1), match.group(2)
        if below is None:
            found.append((Fraction(whole), whole))
        elif int(below) != 0 and not {Fraction(whole), Fraction(below)} <= given:
            found.append((Fraction(whole) / int(below), match.group(0)))
        else:
            found += [(Fraction(whole), whole), (Fraction(below), below)]
    return found


def stated_number(question: str, answer: str) -> tuple[Fraction, str] | None:
    """The number an answer gives, and how it wrote it: its first that the question did not
    ("2 plus 6 is 8" gives 8), else its first."""
    given = {value for value, _ in _written_numbers(question[:MAX_CHARS], set())}
    found = _written_numbers(answer[:MAX_CHARS], given)
    new = [number for number in found if number[0] not in given]
    return new[0] if new else found[0] if found else None


def _agrees(stated: tuple[Fraction, str], expected: Fraction) -> bool:
    """Equal, or equal to as many decimals as the answer wrote ("1 / 3 is 0.33")."""
    value, written = stated
    if value == expected:
        return True
    places = len(written.split(".", 1)[1]) if "." in written and "/" not in written else 0
    return places > 0 and abs(value - expected) <= Fraction(1, 2 * 10**places)


_SORT_REQUEST = re.compile(r"\b(sort|order|arrange|put)\b.*\balphabetical(ly)?\b|\balphabeti[sz]e\b", re.IGNORECASE)
_REVERSED = re.compile(r"\b(reverse|descending|z\s*(to|-)\s*a)\b", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*")
_CONJUNCTION = re.compile(r"^(and|or)\s+", re.IGNORECASE)


def sorted_words(question: str) -> list[str] | None:
    """The words of a request to sort a list alphabetically (the list follows its colon), sorted.

    A list with commas, semicolons or one item per line may have items of several words
    ("New York, Boston and Chicago" has three); otherwise each word is an item.
    """
    if len(question) > MAX_CHARS or ":" not in question:
        return None
    request, listed = question.split(":", 1)
    if not _SORT_REQUEST.search(request):
        return None
    if re.search(r"[,;\n]", listed.strip()):
        parts = [_CONJUNCTION.sub("", part.strip()) for part in re.split(r"[,;\n]|\band\b", listed)]
        items = [" ".join(_WORD.findall(part)) for part in parts]
    else:
        items = _WORD.findall(listed)
    items = [item for item in items if item]
    if not 2 <= len(items) <= MAX_WORDS:
        return None
    ordered = sorted(items, key=str.casefold, reverse=bool(_REVERSED.search(request)))
    return [word for item in ordered for word in item.split()]


def _contains(sequence: list[str], part: list[str]) -> bool:
    return any(sequence[i : i + len(part)] == part for i in range(len(sequence) - len(part) + 1))


def check(question: str, answer: str) -> bool | None:
    """Whether the answer agrees with Hearth's own result; None where Hearth has none to compare."""
    expected = arithmetic_result(question)
    if expected is not None:
        stated = stated_number(question, answer)
        return None if stated is None else _agrees(stated, expected)
    words = sorted_words(question)
    if words is not None:
        wanted = [word.casefold() for word in words]
        listed = set(wanted)
        given = [w.casefold() for w in _WORD.findall(answer[:MAX_CHARS]) if w.casefold() in listed]
        return None if not given else _contains(given, wanted)
    return None


def worked_out(question: str) -> str | None:
    """Hearth's own result for an arithmetic request, as a person would write it ("2006", "3.125",
    "1/3, about 0.333333"); None for any other request, or a result too long to show."""
    value = arithmetic_result(question)
    if value is None or max(abs(value.numerator), value.denominator) >= 10**SHOWN_DIGITS:
        return None
    if value.denominator == 1:
        return str(value.numerator)
    rest = value.denominator
    for factor in (2, 5):
        while rest % factor == 0:
            rest //= factor
    if rest == 1:  # a decimal that ends, within twice the digits shown
        with localcontext(prec=2 * SHOWN_DIGITS):
            return format(Decimal(value.numerator) / Decimal(value.denominator), "f")
    return f"{value.numerator}/{value.denominator}, about {float(value):.6g}"


def in_words(verdict: object, result: object = None) -> str:
    """What the check found, for the reason shown with an answer ("" where there was nothing to check)."""
    if not isinstance(verdict, bool):
        return ""
    if verdict:
        return "Hearth worked the result out too: the answer agrees."
    own = f" (Hearth's result: {result})" if isinstance(result, str) and result else ""
    return f"Hearth worked the result out too: the answer does not agree{own}."
