"""Which tokens of an answer carry the answer, and which are filler.

"The genre of Aaron Copland is opera." is eight words, one of which answers
the question: the rest restate it or hold the sentence together, and the
model is sure of them whether or not it knows the answer. Averaging over
those tokens dilutes the one that matters, so span signals look only at the
words that are neither common function words nor words of the question.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
FILLER = frozenset(
    """a an the is are was were be been being am of to in on at by for with from as and or but not no nor so
    that this these those it its it's he she they them his her their there here what which who whom whose when
    where why how do does did done has have had i you we me my your our us can could would should will shall may
    might must also just very than then too about into over after before because if while each both all any some
    such only own same other more most answer answers correct option options question called known named like
    one's sure""".split()
)


def words_of(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)}


def span_mask(tokens: Sequence[str], question: str) -> list[bool]:
    """For each token, whether it belongs to a word that carries the answer.

    A token that starts with a letter or digit right after another such token continues that
    word; every other token starts a new one.
    """
    asked = words_of(question)
    words: list[list[int]] = []
    previous_alnum = False
    for index, token in enumerate(tokens):
        starts_alnum = bool(token) and token[0].isalnum()
        if not (words and previous_alnum and starts_alnum):
            words.append([])
        words[-1].append(index)
        previous_alnum = bool(token) and token[-1].isalnum()
    mask = [False] * len(tokens)
    for members in words:
        text = "".join(tokens[i] for i in members)
        content = [w for w in words_of(text) if w not in FILLER and w not in asked]
        if content:
            for i in members:
                mask[i] = True
    return mask
