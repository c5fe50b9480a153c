"""Draft then refine: the local model drafts at once, a stronger allowed model is sent the question and the
draft (shown in the consent question) and its text replaces the draft."""

from __future__ import annotations

from pathlib import Path

from app.core.answers import Finished, TextDelta
from app.core.conversation.teamwork.steps import step_of
from app.core.privacy.gate import ConsentRequest, Decision
from app.core.session import open_session
from tests.conftest import config_text, write_user_config

QUESTION = "Name one colour of the rainbow."


def test_the_draft_is_refined_by_a_stronger_model_that_sees_it_in_the_consent_question(
    hearth_home: Path, model_file: Path, llama_server: str
):
    text = config_text(
        model_file, privacy="cloud-with-consent", server_url=llama_server, server_location="cloud", max_answer_tokens=24
    )
    write_user_config(hearth_home, text)
    asked: list[ConsentRequest] = []

    def once(request: ConsentRequest) -> Decision:
        asked.append(request)
        return Decision.ONCE

    session = open_session(consent=once)
    try:
        events = list(session.chat.send(None, QUESTION, refine=True))
        answer = next(e.answer for e in events if isinstance(e, Finished))
        draft = "".join(e.text for e in events if isinstance(e, TextDelta) and e.index == 0)
        assert draft.strip() and answer.complete
        assert len(asked) == 1 and asked[0].model_id == "server"
        sent = asked[0].messages[-1].content
        assert QUESTION in sent and "A draft answer:" in sent and draft.strip()[:20] in sent
        assert answer.model_id == "server" and answer.reason.startswith("Drafted by smollm2-135m (local), refined by")
        store = session.open_store()
        try:
            rows = store.attempts(events[0].answer_id)
            assert [step_of(row).role for row in rows] == ["draft", "refine"]  # type: ignore[union-attr]
            assert store.message(events[0].answer_id).content == answer.text
        finally:
            store.close()
    finally:
        session.close()


def test_without_a_stronger_model_allowed_the_draft_is_the_answer_and_says_why(configured_home: Path):
    session = open_session()
    try:
        events = list(session.chat.send(None, QUESTION, refine=True))
        answer = next(e.answer for e in events if isinstance(e, Finished))
        assert answer.model_id == "smollm2-135m" and answer.complete
        assert "Not refined: Not the self-hosted tier: the privacy policy 'local-only' does not allow it." in (
            answer.reason
        )
    finally:
        session.close()
