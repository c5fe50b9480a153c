"""Cheap checks of an answer's text that say "this is probably not a good answer".

They need no model: hedging and refusal phrases, a repetition loop, an empty
answer, and an answer in another language than the question (small models
often switch language; "What is the capital of France?" answered in French).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

_HEDGES = re.compile(
    r"\b(i'?m not (sure|certain)|i am not (sure|certain)|i don'?t know|i do not know|not entirely sure|"
    r"hard to say|it'?s unclear|i'?m unsure|i (think|believe|guess)|might be|may be|possibly|perhaps|probably)\b",
    re.IGNORECASE,
)
_REFUSALS = re.compile(
    r"\b(i can'?t|i cannot|i'?m (unable|not able)|i am (unable|not able)|i won'?t|i will not|"
    r"as an ai|i'?m sorry,? but|i apologi[sz]e,? but|i do not have access|i don'?t have access)\b",
    re.IGNORECASE,
)

# A handful of the commonest words per language: enough to tell a sentence's language apart.
_STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset("the is are was what and of to in that it for with you this how why which a an".split()),
    "fr": frozenset("le la les est sont et de des du un une que qui dans pour avec ce cette pas je vous".split()),
    "de": frozenset("der die das ist sind und zu den von mit nicht ein eine ich sie es für auf dem wie".split()),
    "es": frozenset("el la los las es son y de que en un una por para con no qué cómo del se lo".split()),
    "it": frozenset("il lo la gli le è sono e di che in un una per con non del della come chi perché".split()),
    "pt": frozenset("o a os as é são e de que em um uma para com não do da como por qual".split()),
    "nl": frozenset("de het een is zijn en van in dat niet met voor op wat hoe waarom ik je".split()),
}
_WORDS = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)
MIN_LETTERS = 12
CHECKED_CHARS = 16_000


def sample(text: str) -> str:
    """What the checks read of an answer: all of it, or its start and its end when it is long.

    Each check is a pass of Python or of a regular expression over the text, and a
    regular expression holds the interpreter until it is done: over a 5 MB answer the
    checks held it for seconds, and the window, waiting for it, could not draw.
    Hedges, refusals and the language show at the start, a loop runs to the end.
    """
    if len(text) <= 2 * CHECKED_CHARS:
        return text
    return text[:CHECKED_CHARS] + "\n" + text[-CHECKED_CHARS:]


def hedges(text: str) -> bool:
    return bool(_HEDGES.search(text))


def refuses(text: str) -> bool:
    return bool(_REFUSALS.search(text))


def is_empty(text: str) -> bool:
    """Nothing worth reading: fewer than two letters or digits ("Paris." is a fine answer)."""
    return sum(c.isalnum() for c in text) < 2


def repetition(text: str, n: int = 4) -> float:
    """Share of word n-grams that repeat an earlier one: 0 for fresh text, near 1 for a loop."""
    words = text.lower().split()
    grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    if len(grams) < 4:
        return 0.0
    return 1.0 - len(set(grams)) / len(grams)


def _script(char: str) -> str:
    name = unicodedata.name(char, "")
    return name.split(" ", 1)[0] if name else ""


def language(text: str) -> str | None:
    """A language code (or a script name for non-Latin text), or None when unsure."""
    letters = [c for c in text if c.isalpha()]
    if len(letters) < MIN_LETTERS:
        return None
    script, count = Counter(_script(c) for c in letters).most_common(1)[0]
    if count < 0.6 * len(letters):
        return None
    if script != "LATIN":
        return {"CJK": "zh", "HIRAGANA": "ja", "KATAKANA": "ja", "HANGUL": "ko"}.get(script, script.lower())
    words = [w.lower() for w in _WORDS.findall(text)]
    scores = sorted(((sum(w in stop for w in words), code) for code, stop in _STOPWORDS.items()), reverse=True)
    (best, code), (second, _) = scores[0], scores[1]
    return code if best >= 2 and best > second else None


def language_mismatch(question: str, answer: str) -> bool:
    asked, answered = language(question), language(answer)
    return asked is not None and answered is not None and asked != answered
