"""The local model: streaming, per-token log-probabilities, one answer at a time, clear failures."""

from __future__ import annotations

import threading
from pathlib import Path

import llama_cpp
import psutil
import pytest

from app.core.config.schema import LocalModel
from app.core.errors import ModelLoadError, ModelMissingError
from app.core.models.fetch import ensure_model_file
from app.core.providers.base import Message
from app.core.providers.llama_cpp import LlamaCppProvider
from tests.conftest import with_chat_template

QUESTION = [Message("system", "You are Hearth."), Message("user", "What is the capital of France?")]


def provider_for(path: Path, **options) -> LlamaCppProvider:
    config = LocalModel(provider="llama-cpp", file=str(path), threads=2, temperature=0.0, **options)
    return LlamaCppProvider("smol", config, lambda: path)


@pytest.fixture(scope="module")
def greedy(model_file: Path):
    provider = provider_for(model_file, repeat_penalty=1.0)
    yield provider
    provider.close()


@pytest.mark.parametrize(
    "prompt",
    ["What is the capital of France?", "Write one sentence about the sea.", "List three prime numbers."],
)
def test_token_logprobs_match_llama_cpp_logits_all(greedy: LlamaCppProvider, model_file: Path, prompt: str):
    messages = [Message("system", "You are a helpful assistant."), Message("user", prompt)]
    chunks = list(greedy.stream(messages, max_tokens=24))
    ours = [lp for chunk in chunks for lp in chunk.logprobs]
    text = "".join(chunk.text for chunk in chunks)

    reference = llama_cpp.Llama(str(model_file), n_ctx=2048, n_threads=2, logits_all=True, verbose=False)
    try:
        prompt_tokens, _ = greedy._prompt(greedy._llm, messages)
        out = reference.create_completion(prompt_tokens, max_tokens=24, temperature=0.0, repeat_penalty=1.0, logprobs=1)
    finally:
        reference.close()
    theirs = out["choices"][0]["logprobs"]["token_logprobs"]

    assert text == out["choices"][0]["text"]
    assert len(ours) == len(theirs) > 0
    for position, (mine, reference_value) in enumerate(zip(ours, theirs, strict=True)):
        assert mine == pytest.approx(reference_value, abs=1e-3), f"token {position}"


def test_the_answer_streams_token_by_token_and_reports_usage(greedy: LlamaCppProvider):
    chunks = list(greedy.stream(QUESTION, max_tokens=40))
    assert len(chunks) > 3
    assert all(len(chunk.logprobs) == 1 for chunk in chunks[:-1])
    last = chunks[-1]
    assert last.finish_reason == "stop"
    assert last.usage is not None and last.usage.completion_tokens == len(chunks) - 1
    assert "Paris" in "".join(chunk.text for chunk in chunks)


def test_an_answer_cut_by_the_token_limit_says_so(greedy: LlamaCppProvider):
    chunks = list(greedy.stream([Message("user", "Tell me a long story about a dragon.")], max_tokens=5))
    assert chunks[-1].finish_reason == "length"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 5


def test_the_model_loads_lazily_on_first_use(model_file: Path):
    provider = provider_for(model_file)
    assert not provider.loaded
    stream = provider.stream(QUESTION, max_tokens=4)
    next(stream)
    stream.close()
    assert provider.loaded
    provider.close()
    assert not provider.loaded


def test_one_generation_at_a_time_per_model(greedy: LlamaCppProvider):
    first = greedy.stream(QUESTION, max_tokens=30)
    next(first)
    second_started = threading.Event()

    def second() -> None:
        stream = greedy.stream(QUESTION, max_tokens=3)
        next(stream)
        second_started.set()
        stream.close()

    thread = threading.Thread(target=second)
    thread.start()
    assert not second_started.wait(1.0), "a second answer ran while the first was still generating"
    first.close()
    assert second_started.wait(60), "the second answer never started after the first was stopped"
    thread.join()


def test_a_missing_model_file_says_where_it_should_be(tmp_path: Path):
    missing = tmp_path / "nowhere.gguf"
    provider = LlamaCppProvider(
        "gone",
        LocalModel(provider="llama-cpp", file=str(missing)),
        lambda: ensure_model_file(LocalModel(provider="llama-cpp", file=str(missing)), tmp_path),
    )
    with pytest.raises(ModelMissingError, match="nowhere.gguf does not exist"):
        list(provider.stream(QUESTION, max_tokens=4))


def test_a_truncated_model_file_gives_a_clear_message(tmp_path: Path, model_file: Path):
    truncated = tmp_path / "truncated.gguf"
    truncated.write_bytes(model_file.read_bytes()[: 1 << 20])
    with pytest.raises(ModelLoadError, match="could not load .*truncated.gguf"):
        provider_for(truncated).load()


def test_a_damaged_model_file_without_a_source_is_refused(tmp_path: Path):
    damaged = tmp_path / "damaged.gguf"
    damaged.write_bytes(b"GGUF" + b"\0" * 100)
    model = LocalModel(provider="llama-cpp", file=str(damaged), sha256="0" * 64)
    with pytest.raises(ModelLoadError, match="damaged"):
        ensure_model_file(model, tmp_path)


def test_a_model_larger_than_this_computers_memory_is_refused_before_loading(tmp_path: Path):
    huge = tmp_path / "huge.gguf"
    with huge.open("wb") as handle:  # sparse: takes no disk space
        handle.write(b"GGUF")
        handle.truncate(psutil.virtual_memory().total * 2)
    with pytest.raises(ModelLoadError, match="huge.gguf is too large for this computer: it needs about"):
        provider_for(huge).load()


CUSTOM = "{% for m in messages %}### {{ m['role'] }}: {{ m['content'] }}\n{% endfor %}### assistant:"


@pytest.mark.parametrize(
    ("template", "note"),
    [(CUSTOM, False), ("{{ raise_exception('System role not supported') }}", True)],
    ids=["unfamiliar", "refuses-the-conversation"],
)
def test_a_chat_template_hearth_does_not_know_still_answers(tmp_path: Path, model_file: Path, template: str, note):
    provider = provider_for(with_chat_template(model_file, tmp_path, template), repeat_penalty=1.0)
    try:
        text = "".join(chunk.text for chunk in provider.stream(QUESTION, max_tokens=12))
        stops = provider._prompt(provider._load_locked(), QUESTION)[1]
    finally:
        provider.close()
    assert text.strip()
    if note:  # the template refused: ChatML took over, and the reason is kept
        assert provider.template_note is not None and "System role not supported" in provider.template_note
        # A model that does not know ChatML's end marker as a token stops where it writes it out.
        assert "<|im_end|>" in stops
    else:
        assert provider.template_note is None


def test_a_chat_template_that_is_not_jinja_is_a_clear_load_error(tmp_path: Path, model_file: Path):
    broken = with_chat_template(model_file, tmp_path, "{% this_is_no_jinja_tag %}")
    with pytest.raises(ModelLoadError, match="chat template that is not valid Jinja .* download it again"):
        provider_for(broken).load()
