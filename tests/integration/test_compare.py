"""Compare: another tier answers the same message beside the one on show; the user's pick is shown and labelled."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.answers import Finished
from app.core.conversation import compare
from app.core.conversation.learning import labels
from app.core.errors import NoStrongerModel
from app.core.session import open_session
from tests.conftest import config_text, write_user_config

QUESTION = "What is 2 plus 2?"


def answered(session) -> int:
    events = list(session.chat.send(None, QUESTION))
    return next(e for e in events if hasattr(e, "answer_id")).answer_id


@pytest.mark.server
def test_compare_answers_on_the_other_tier_and_the_pick_becomes_the_answer(
    hearth_home: Path, model_file: Path, llama_server: str
):
    text = config_text(
        model_file, privacy="local-and-self-hosted", threshold=0.0, server_url=llama_server, server_logprobs=True
    )
    write_user_config(hearth_home, text)
    session = open_session()
    store = session.open_store()
    try:
        message = answered(session)
        shown = store.message(message).content
        [local] = store.attempts(message)
        assert local.tier == "local" and shown

        events = list(session.chat.compare(message))
        finished = next(e.answer for e in events if isinstance(e, Finished))
        assert finished.tier == "self-hosted" and not finished.escalated
        local, other = store.attempts(message)
        assert other.tier == "self-hosted" and other.trigger == "user" and other.text == finished.text
        assert store.message(message).content == shown  # the answer on show stays until the user picks
        # The other answer left through the outgoing gate, and is in its audit.
        sent = list(store.db["outbound"].rows_where("message_id = ?", [message]))
        assert [(row["model"], row["location"]) for row in sent] == [("server", "self-hosted")]

        compare.choose(store, session.learner, message, other.id, local.id)
        assert store.message(message).content == other.text
        assert [label.verdict.value for label in labels.labels(store, "server")] == ["preferred"]
        assert [label.correct for label in labels.labels(store, "smollm2-135m")] == [False]
        with pytest.raises(Exception, match="not two answers"):
            compare.choose(store, session.learner, message, other.id, other.id)
    finally:
        store.close()
        session.close()


def test_compare_says_why_when_the_policy_allows_no_other_tier(hearth_home: Path, model_file: Path):
    write_user_config(hearth_home, config_text(model_file, privacy="local-only", threshold=0.0))
    session = open_session()
    try:
        message = answered(session)
        with pytest.raises(NoStrongerModel) as problem:
            list(session.chat.compare(message))
        assert problem.value.configured and "no other tier" in str(problem.value)
    finally:
        session.close()
