"""Hearth never makes the model it wraps worse: a short question through the whole chat path gets
the answer plain llama.cpp gives greedily, and each kind of request gets the sampling measured for it."""

from __future__ import annotations

from pathlib import Path

import llama_cpp
import pytest

from app.core.answers import Finished
from app.core.config.load import default_config_file, load_config_file
from app.core.config.schema import LocalModel
from app.core.evaluation.harness import EvalItem
from app.core.evaluation.plain_baseline import PlainModel
from app.core.providers.base import Message, Sampling
from app.core.providers.sampling import RequestKind, choose_sampling, request_kind
from app.core.session import open_session

SHORT_QUESTIONS = [
    "What is 7 plus 5?",
    "Which sport does Michael Jordan play?",
    'What is the plural of "mouse"? Reply with the word only.',
    "True or false: water boils at 100 degrees Celsius at sea level.\n\nA. True\nB. False\n\n"
    "Answer with the letter of the correct option.",
]


@pytest.mark.parametrize(
    "text, kind",
    [
        ("What is 80 plus 29?", RequestKind.SHORT),
        ("Which record label was AC/DC signed to?", RequestKind.SHORT),
        ("Sort these words alphabetically: pear apple", RequestKind.SHORT),
        ("Is it true?\n\nA. True\nB. False\n\nAnswer with the letter of the correct option.", RequestKind.SHORT),
        ("Why is the sky blue?\n\nA. Scattering\nB. Reflection\nC. Paint", RequestKind.SHORT),
        ("Write a letter to my landlord about the heating.", RequestKind.OPEN),
        ("Write a short poem about autumn.", RequestKind.OPEN),
        ("Explain how a refrigerator keeps food cold.", RequestKind.OPEN),
        ("Why is the sky blue?", RequestKind.OPEN),
        ("word " * 100, RequestKind.OPEN),
    ],
)
def test_each_request_is_short_or_open_ended(text: str, kind: RequestKind):
    assert request_kind([Message("system", "Be brief."), Message("user", text)]) is kind


def test_short_questions_are_greedy_and_open_requests_keep_the_models_settings():
    config = load_config_file(default_config_file())
    model = config.models[config.tiers[0].models[0]]
    assert isinstance(model, LocalModel)
    short = [Message("user", "What is 2 plus 2?")]
    story = [Message("user", "Write a story about a lighthouse keeper.")]
    assert choose_sampling(model, short, None) == (0.0, 1.0)
    assert choose_sampling(model, story, None) == (model.temperature, model.repeat_penalty)
    assert model.temperature > 0 and model.repeat_penalty > 1
    # An ensemble's draw overrides both.
    assert choose_sampling(model, short, Sampling(temperature=0.7, seed=1)) == (0.7, 1.0)


def test_the_chat_path_answers_short_questions_as_plain_llama_cpp_does(hearth_home: Path, model_file: Path):
    """Through ChatService (context, cascade, provider, store), with the shipped sampling defaults and
    the shipped system prompt (none: the model's own), the answer is the one llama-cpp-python gives
    greedily for the question alone."""
    from tests.conftest import config_text, write_user_config

    text = config_text(model_file, max_answer_tokens=40).replace("temperature = 0.0\n", "", 1)
    text = "\n".join(line for line in text.splitlines() if not line.startswith("system_prompt ="))
    write_user_config(hearth_home, text)
    session = open_session()
    plain = llama_cpp.Llama(str(model_file), n_ctx=2048, n_threads=2, verbose=False)
    try:
        model = session.config.models["smollm2-135m"]
        assert isinstance(model, LocalModel) and model.temperature > 0  # open-ended requests would sample
        for question in SHORT_QUESTIONS:
            events = list(session.chat.send(None, question))
            answer = next(e.answer for e in events if isinstance(e, Finished))
            assert session.config.settings.system_prompt == ""
            reply = plain.create_chat_completion(
                [{"role": "user", "content": question}], temperature=0.0, max_tokens=40
            )
            assert answer.text.strip() == reply["choices"][0]["message"]["content"].strip(), question
            assert answer.text  # a real answer, not two empty strings
    finally:
        plain.close()
        session.close()


def test_the_plain_baseline_is_judged_and_scored_like_any_tier(model_file: Path):
    model = LocalModel(provider="llama-cpp", file=str(model_file), threads=2)
    plain = PlainModel("smol", model, model_file)
    try:
        result = plain.answer(EvalItem(id="sum", prompt="What is 2 plus 2?", checker="number", answer="4"), 24)
    finally:
        plain.close()
    assert result.tier == "plain" and result.answer and result.tokens > 0
    assert 0 < result.confidence <= 1 and result.signals["mean_logprob"] < 0


def test_hearth_reads_the_same_answer_probability_as_the_plain_model(model_file: Path):
    """The mean log-probability Hearth keeps is the plain model's (to the rounding of the logits), and
    Hearth also keeps how sure the model was that it had finished: the end-of-answer token's."""
    from app.core.confidence.signals import TokenTrace
    from app.core.providers.llama_cpp import LlamaCppProvider

    question = "What is 7 plus 5?"
    model = LocalModel(provider="llama-cpp", file=str(model_file), threads=2)
    plain = PlainModel("smol", model, model_file)
    try:
        result = plain.answer(EvalItem(id="sum", prompt=question, checker="number", answer="12"), 32)
    finally:
        plain.close()
    provider = LlamaCppProvider("smol", model, lambda: model_file)
    trace = TokenTrace()
    try:
        chunks = list(provider.stream([Message("user", question)], max_tokens=32))
    finally:
        provider.close()
    for chunk in chunks:
        trace.add(chunk)
    text = "".join(chunk.text for chunk in chunks)
    signals = trace.signals(question, text, chunks[-1].finish_reason)
    assert text.strip() == result.answer.strip() and chunks[-1].finish_reason == "stop"
    assert signals.n_tokens == result.signals["n_tokens"]
    assert signals.mean_logprob == pytest.approx(result.signals["mean_logprob"], abs=1e-3)
    assert signals.end_logprob is not None and -30 < signals.end_logprob < 0


def test_a_model_without_a_chat_template_answers_as_through_llama_cpp_python(gemma_file: Path):
    """Gemma 3 270M (base) has no chat template: Hearth's ChatML is llama-cpp-python's, BOS token and
    empty system turn included, so it gets the same answers (the BOS missing made it babble)."""
    from app.core.providers.llama_cpp import LlamaCppProvider

    model = LocalModel(provider="llama-cpp", file=str(gemma_file), threads=2)
    items = [
        EvalItem(id="letter", prompt=SHORT_QUESTIONS[3], checker="choice", answer="A"),
        EvalItem(id="sum", prompt="What is 7 plus 5?", checker="number", answer="12"),
    ]
    plain = PlainModel("gemma", model, gemma_file)
    try:
        expected = [plain.answer(item, 24).answer for item in items]
    finally:
        plain.close()
    provider = LlamaCppProvider("gemma", model, lambda: gemma_file)
    try:
        answers = [
            "".join(chunk.text for chunk in provider.stream([Message("user", item.prompt)], max_tokens=24))
            for item in items
        ]
    finally:
        provider.close()
    assert [a.strip() for a in answers] == [e.strip() for e in expected]
    assert any(answer.strip() for answer in answers)
