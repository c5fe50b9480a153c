"""Answers over documents: their chunks pass the outgoing gate like any message, and cite where they came from.

The local tier is the real SmolLM2 model; the remote tier a recording server on 127.0.0.1.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.answers import Answer, Finished
from app.core.config.schema import Privacy
from app.core.documents.answering import UNSUPPORTED_SHARE, Cited
from app.core.errors import InvalidInput, NoStrongerModel
from app.core.privacy.gate import ConsentRequest, Decision
from app.core.session import Session, open_session
from app.core.storage.outbound_records import OutboundRecords
from tests.conftest import config_text, write_user_config
from tests.destinations import RecordingServer
from tests.document_files import write_pdf

SECRET_MAIL = "treasurer.jo@example.org"


@pytest.fixture
def documents(tmp_path: Path) -> Path:
    folder = tmp_path / "club"
    folder.mkdir()
    write_pdf(
        folder / "minutes.pdf",
        ["Minutes of the rowing club, March.", f"The boathouse key is kept by the treasurer, {SECRET_MAIL}."],
    )
    (folder / "rules.md").write_text(
        "# Club rules\n\n## Boats\n\nBoats are washed after every outing.\n", encoding="utf-8"
    )
    return folder


def session_for(
    home: Path, model_file: Path, server: RecordingServer, privacy: str, consent=None, threshold: float = 1.0
) -> Iterator[Session]:
    """A session whose local answers are unsure (threshold 1.0), so they climb where the policy lets them."""
    write_user_config(
        home,
        config_text(
            model_file, privacy=privacy, threshold=threshold, server_url=server.url, server_location="cloud"
        ).replace("threads = 2", "threads = 1"),
    )
    session = open_session(consent=consent)
    try:
        yield session
    finally:
        session.close()


def ask(session: Session, question: str, collections: list[str]) -> tuple[Answer, Cited]:
    events = list(session.chat.send(None, question, documents=collections))
    [answer] = [event.answer for event in events if isinstance(event, Finished)]
    [cited] = [event for event in events if isinstance(event, Cited)]
    return answer, cited


def index(session: Session, name: str, folder: Path, local_only: bool = False) -> None:
    assert session.library is not None
    session.library.add(name, [folder], local_only=local_only)
    list(session.library.index(name))


def test_the_consent_preview_shows_the_chunks_redacted_and_the_audit_names_them(
    hearth_home: Path, model_file: Path, servers: list[RecordingServer], documents: Path
):
    asked: list[ConsentRequest] = []

    def consent(request: ConsentRequest) -> Decision:
        asked.append(request)
        return Decision.ONCE

    for session in session_for(hearth_home, model_file, servers[0], "cloud-with-consent", consent):
        index(session, "club", documents)
        answer, cited = ask(session, "Who keeps the boathouse key?", ["club"])
        servers[0].settle()
        assert answer.model_id == "server", "the unsure local answer climbed to the remote tier"
        [request] = asked
        preview = "\n".join(message.content for message in request.messages)
        assert "The boathouse key is kept by the treasurer" in preview
        assert SECRET_MAIL not in preview, "redaction applies to document text"
        sent = json.dumps(servers[0].bodies)
        assert "boathouse key" in sent and SECRET_MAIL not in sent
        [row] = OutboundRecords(store := session.open_store()).audit()
        carried = json.loads(row.documents or "{}")
        assert carried["collections"] == ["club"]
        assert carried["chunks"] == [chunk for source in cited.sources for chunk in source.chunk_ids]
        stored = store.message(answer_id := store.thread(1)[-1].id)
        assert stored.role == "assistant" and answer_id
        assert [s["path"] for s in json.loads(stored.sources or "[]")] == [s.path for s in cited.sources]
        store.close()
        [first, *_] = cited.sources
        assert (Path(first.path).name, first.page) == ("minutes.pdf", 2)
        assert first.url().endswith("minutes.pdf#page=2")


def test_a_local_only_collection_never_reaches_a_remote_tier_whatever_the_policy(
    hearth_home: Path, model_file: Path, servers: list[RecordingServer], documents: Path
):
    for session in session_for(hearth_home, model_file, servers[0], "cloud-auto"):
        index(session, "club", documents, local_only=True)
        answer, cited = ask(session, "Who keeps the boathouse key?", ["club"])
        servers[0].settle()
        assert servers[0].connections == 0 and servers[0].bodies == []
        assert answer.tier == "local" and cited.sources
        assert "local-only" in answer.reason
        store = session.open_store()
        try:
            assert store.conversation(1).privacy == "local-only", "later turns quote it too: they stay here"
            assert OutboundRecords(store).audit() == []
        finally:
            store.close()


def test_no_relevant_chunk_makes_the_answer_unsure_and_it_says_so(
    hearth_home: Path, model_file: Path, servers: list[RecordingServer], documents: Path
):
    for session in session_for(hearth_home, model_file, servers[0], "local-only", threshold=0.01):
        index(session, "club", documents)
        answer, cited = ask(session, "Quantum chromodynamics gluon?", ["club"])
        assert cited.sources == [] and cited.note, "no chunk is sent or cited on a vector's word alone"
        assert answer.confidence is not None and answer.confidence <= UNSUPPORTED_SHARE * 0.01
        assert "Unsure: confidence" in answer.reason, "even a threshold this low is not reached"
        assert answer.warning is not None and answer.warning.startswith("Nothing in 'club' matched this question")
        store = session.open_store()
        try:
            assert "Nothing in 'club' matched" in (store.message(store.thread(1)[-1].id).warning or "")
        finally:
            store.close()


def test_regenerate_and_a_stronger_model_answer_from_the_same_documents(
    hearth_home: Path, model_file: Path, servers: list[RecordingServer], documents: Path
):
    for session in session_for(hearth_home, model_file, servers[0], "local-only"):
        index(session, "club", documents)
        _, first = ask(session, "Who keeps the boathouse key?", ["club"])
        store = session.open_store()
        answer_id = store.thread(1)[-1].id
        store.close()
        events = list(session.chat.regenerate(answer_id))
        [again] = [event for event in events if isinstance(event, Cited)]
        assert [s.path for s in again.sources] == [s.path for s in first.sources] and again.sources
        store = session.open_store()
        try:
            regenerated = store.thread(1)[-1]
            assert regenerated.id != answer_id and regenerated.parent_id == answer_id
            assert "minutes.pdf" in (regenerated.sources or ""), "the new version cites its documents too"
        finally:
            store.close()

    servers[0].bodies.clear()
    for session in session_for(hearth_home, model_file, servers[0], "cloud-auto"):
        store = session.open_store()
        answer_id = store.thread(1)[-1].id
        store.close()
        events = list(session.chat.reask(answer_id))
        [cited] = [event for event in events if isinstance(event, Cited)]
        [answer] = [event.answer for event in events if isinstance(event, Finished)]
        servers[0].settle()
        assert answer.model_id == "server" and cited.sources
        assert "The boathouse key is kept by the treasurer" in json.dumps(servers[0].bodies)


def test_a_local_only_collection_keeps_ask_a_stronger_model_on_this_computer(
    hearth_home: Path, model_file: Path, servers: list[RecordingServer], documents: Path
):
    for session in session_for(hearth_home, model_file, servers[0], "local-only"):
        index(session, "club", documents, local_only=True)
        ask(session, "Who keeps the boathouse key?", ["club"])
        store = session.open_store()
        answer_id = store.thread(1)[-1].id
        store.set_conversation_privacy(1, "cloud-auto")  # the user widened the conversation afterwards
        store.close()
        with pytest.raises(NoStrongerModel):
            list(session.chat.reask(answer_id, privacy=Privacy.CLOUD_AUTO))
        servers[0].settle()
        assert servers[0].connections == 0


def test_a_conversation_that_quotes_a_local_only_collection_stays_on_this_computer(
    hearth_home: Path, model_file: Path, servers: list[RecordingServer], documents: Path
):
    # Its follow-ups carry the earlier answers (and summaries) that quote the collection's text.
    for session in session_for(hearth_home, model_file, servers[0], "cloud-auto"):
        index(session, "club", documents, local_only=True)
        ask(session, "Who keeps the boathouse key?", ["club"])
        with pytest.raises(InvalidInput, match="'club'.*stays on this computer"):
            session.chat.privacy.choose(1, Privacy.CLOUD_AUTO)
        with pytest.raises(InvalidInput):
            session.chat.privacy.choose(1, None)  # following the app's cloud-auto would widen it too
        events = list(session.chat.send(1, "Say that again, please.", privacy=Privacy.CLOUD_AUTO))
        [answer] = [event.answer for event in events if isinstance(event, Finished)]
        servers[0].settle()
        assert answer.model_id != "server" and servers[0].connections == 0
        store = session.open_store()
        assert session.chat.privacy.own(store, 1) is Privacy.LOCAL_ONLY
        store.close()


def test_marking_a_collection_local_only_later_holds_the_conversations_that_used_it(
    hearth_home: Path, model_file: Path, servers: list[RecordingServer], documents: Path
):
    for session in session_for(hearth_home, model_file, servers[0], "cloud-auto"):
        index(session, "club", documents)
        ask(session, "Who keeps the boathouse key?", ["club"])
        store = session.open_store()
        assert session.chat.privacy.effective(store, 1) is Privacy.CLOUD_AUTO
        assert session.library is not None
        session.library.set_local_only("club", True)
        assert session.chat.privacy.effective(store, 1, Privacy.CLOUD_AUTO) is Privacy.LOCAL_ONLY
        session.library.set_local_only("club", False)  # the user's own choice lets it go again
        assert session.chat.privacy.effective(store, 1) is Privacy.CLOUD_AUTO
        session.library.remove("club")  # its text is still quoted in the answers
        assert session.chat.privacy.effective(store, 1) is Privacy.LOCAL_ONLY
        store.close()
