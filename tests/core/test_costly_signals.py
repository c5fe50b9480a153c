"""The signals that cost model calls (measured by bench/cascade.py, not part of the default score)."""

from __future__ import annotations

import pytest

from app.core.confidence import costly_signals
from app.core.providers.base import Message
from app.core.providers.llama_cpp import LlamaCppProvider


@pytest.fixture
def provider(smol_provider: LlamaCppProvider) -> LlamaCppProvider:
    return smol_provider


def test_answer_words_leave_out_filler_and_the_question():
    question = "What is the genre of Aaron Copland?"
    assert costly_signals.answer_words("The genre of Aaron Copland is opera.", question) == {"opera"}


def test_agreement_is_the_share_of_samples_that_say_the_same(provider: LlamaCppProvider):
    messages = [Message("user", "What is 2 plus 2?")]
    greedy = "".join(chunk.text for chunk in provider.stream(messages, max_tokens=16))
    share = costly_signals.agreement(provider, messages, greedy, tokens=16)
    assert share in (0.0, 1 / 3, 2 / 3, 1.0)
    assert costly_signals.agreement(provider, messages, greedy, tokens=16) == share  # seeded draws
    assert costly_signals.agreement(provider, messages, "zebra xylophone quartz", tokens=16) <= share


def test_p_true_is_a_probability_read_from_one_forward_pass(provider: LlamaCppProvider):
    value = costly_signals.p_true(provider, "What is 2 plus 2?", "4")
    assert 0.0 < value < 1.0
    assert costly_signals.p_true(provider, "What is 2 plus 2?", "4") == pytest.approx(value)
    # The model still answers normally afterwards (the forward pass left no state behind).
    assert "".join(chunk.text for chunk in provider.stream([Message("user", "Say hi.")], max_tokens=8))
