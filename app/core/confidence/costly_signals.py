"""Signals that cost more model calls: agreement between cheap samples, and P(True).

- Agreement (semantic agreement cascades, arXiv 2509.21837): a few short
  samples at a higher temperature; the share of them whose answer words match
  the shown answer's. A model that knows the answer says it again.
- P(True) (Kadavath et al., 2022): the model reads the question and its own
  answer and is asked whether the answer is correct; the probability of
  "Yes" against "No" at the next token.

bench/cascade.py measures both on the held-out sets next to the free
signals, with their cost per answer; neither is part of the default score
(see tests/data/README.md for why).
"""

from __future__ import annotations

from collections.abc import Sequence

from app.core.confidence.answer_span import FILLER, words_of
from app.core.providers.base import Message, Provider, Sampling
from app.core.providers.llama_cpp import LlamaCppProvider

AGREEMENT_SAMPLES = 3
AGREEMENT_TEMPERATURE = 0.7
AGREEMENT_SEED = 104729
P_TRUE_PROMPT = (
    "Question: {question}\nProposed answer: {answer}\n\nIs the proposed answer correct? Reply with Yes or No only."
)


def answer_words(text: str, question: str) -> frozenset[str]:
    """The words that carry an answer: neither filler nor the question's own."""
    return frozenset(words_of(text) - FILLER - words_of(question))


def agreement(provider: Provider, messages: Sequence[Message], answer: str, tokens: int) -> float:
    """Share of ``AGREEMENT_SAMPLES`` short samples that share an answer word with ``answer``."""
    question = next((m.content for m in reversed(messages) if m.role == "user"), "")
    shown = answer_words(answer, question)
    agreeing = 0
    for sample in range(AGREEMENT_SAMPLES):
        draw = Sampling(temperature=AGREEMENT_TEMPERATURE, seed=AGREEMENT_SEED + sample)
        stream = provider.stream(messages, max_tokens=max(8, tokens), sampling=draw)
        try:
            text = "".join(chunk.text for chunk in stream)
        finally:
            stream.close()
        other = answer_words(text, question)
        agreeing += bool(shown & other) or (not shown and not other)
    return agreeing / AGREEMENT_SAMPLES


def p_true_messages(question: str, answer: str) -> list[Message]:
    return [Message("user", P_TRUE_PROMPT.format(question=question, answer=answer.strip()))]


def p_true(provider: LlamaCppProvider, question: str, answer: str) -> float:
    """The model's own probability that its answer is correct ("Yes" against "No")."""
    return provider.first_word_odds(p_true_messages(question, answer), "Yes", "No")
