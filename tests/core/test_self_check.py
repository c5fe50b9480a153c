"""Hearth checks answers to requests it can work out itself: simple sums and alphabetical sorting."""

from __future__ import annotations

from fractions import Fraction

import pytest

from app.core.confidence.self_check import arithmetic_result, check, in_words, sorted_words, worked_out
from app.core.confidence.signals import default_score, signals_from


@pytest.mark.parametrize(
    "question, value",
    [
        ("What is 34 times 59?", 2006),
        ("What is 9 minus 4?", 5),
        ("what's 12.5 / 4", Fraction(25, 8)),
        ("Compute (2 + 3) * 4.", 20),
        ("What is 1,200 divided by 3?", 400),
        ("How much is 7 × 8?", 56),
        ("What is minus 5 plus 3?", -2),
        ("2 + 3 * 4 =", 14),
    ],
)
def test_a_simple_sum_is_worked_out_exactly(question: str, value: Fraction):
    assert arithmetic_result(question) == value


@pytest.mark.parametrize(
    "question",
    [
        "What is 3 apples plus 2 pears?",  # words between the numbers
        "In 2020, what was 4 + 4?",  # a year beside the sum
        "What is 50 % of 20?",
        "What is 2 to the power of 3?",
        "How many times does 3 go into 12?",
        "What is 5 divided by 0?",
        "What is 0x1F plus 1?",  # hexadecimal
        "What is 12?",  # a number, no sum
        "Who wrote Hamlet?",
        "(" * 500 + "1" + ")" * 500 + " + 1",  # nested past reason
        "What is " + "- " * 990 + "1 + 1?",
        "What is 1234567890123456 times 2?",  # longer numbers than it reads
    ],
)
def test_what_is_not_a_simple_sum_is_left_to_the_model(question: str):
    assert arithmetic_result(question) is None
    assert check(question, "The answer is 8.") is None


@pytest.mark.parametrize(
    "answer, agrees",
    [
        ("34 times 59 is 2006.", True),
        ("34 x 59 = 2,006", True),
        ("To multiply 34 by 59, we need to multiply 59 by itself, which is 3481.", False),
        ("The answer is 2007.", False),
        ("That is a classic question in mathematics.", None),  # states no result
    ],
)
def test_an_answer_agrees_with_the_sum_or_not(answer: str, agrees: bool | None):
    assert check("What is 34 times 59?", answer) is agrees


def test_a_rounded_division_agrees_to_the_decimals_it_wrote():
    assert check("What is 1 divided by 3?", "1 / 3 is about 0.33") is True
    assert check("What is 1 divided by 3?", "1 / 3 is about 0.5") is False
    assert check("What is 7 divided by 2?", "7/2 = 3") is False  # a whole number must be exact


@pytest.mark.parametrize(
    "question, words",
    [
        ("Sort these words alphabetically: pear apple fig", ["apple", "fig", "pear"]),
        ("Put these in alphabetical order: New York, Boston and Chicago", ["Boston", "Chicago", "New", "York"]),
        ("Sort in reverse alphabetical order: b, c, a", ["c", "b", "a"]),
        ("Sort these numbers: 3 1 2", None),
        ("Tell me about sorting algorithms", None),
    ],
)
def test_a_request_to_sort_words_is_recognised(question: str, words: list[str] | None):
    assert sorted_words(question) == words


def test_a_sorted_list_agrees_and_the_list_as_given_does_not():
    question = "Sort these words alphabetically and reply with the sorted words only: onondaga dogmatic parasol"
    assert check(question, "dogmatic onondaga parasol") is True
    assert check(question, "Sorted: Dogmatic, Onondaga, Parasol.") is True
    assert check(question, "Onondaga, Dogmatic, Parasol,") is False
    assert check(question, "I cannot do that.") is None


def test_an_answer_the_sum_contradicts_is_not_trusted_however_sure_the_model_was():
    sure = [-0.01] * 8
    wrong = signals_from("What is 34 times 59?", "34 times 59 is 3481.", sure, [0.1] * 8, "stop")
    right = signals_from("What is 34 times 59?", "34 times 59 is 2006.", [-2.0] * 8, [2.0] * 8, "stop")
    unchecked = signals_from("Who wrote Hamlet?", "Shakespeare wrote it.", sure, [0.1] * 8, "stop")
    assert wrong.self_check is False and right.self_check is True and unchecked.self_check is None
    assert default_score(wrong) < 0.1 < 0.9 < default_score(right)
    assert default_score(unchecked) > 0.9


@pytest.mark.parametrize(
    "question, shown",
    [
        ("What is 34 times 59?", "2006"),
        ("What is 25 divided by 8?", "3.125"),
        ("What is 1 divided by 3?", "1/3, about 0.333333"),
        ("What is 7 minus 10?", "-3"),
        ("What is " + " times ".join(["999999999999999"] * 3) + "?", None),  # too long to show
        ("Sort these words alphabetically: pear apple", None),
    ],
)
def test_hearths_own_result_is_written_as_a_person_would(question: str, shown: str | None):
    assert worked_out(question) == shown


def test_the_reason_says_what_the_check_found_and_hearths_result():
    assert (
        in_words(False, "2006")
        == "Hearth worked the result out too: the answer does not agree (Hearth's result: 2006)."
    )
    assert in_words(True, "2006") == "Hearth worked the result out too: the answer agrees."
    assert in_words(None, None) == ""
    assert in_words("yes", 3) == ""  # a stored value of another type says nothing
