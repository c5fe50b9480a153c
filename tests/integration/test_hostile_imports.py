"""Imports are checked by the reader's own rules, and nothing a file claims is trusted: a hostile export is
refused whole with a message naming where, costs never lift a budget, the audit shows no forged
destination, no imported path is ever read. Rows stored against the rules anyway (an older bug, a hand
edit) make only their own conversation show a problem. Real SQLite files, real `hearth` commands."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.cli.main import main
from app.core.answers import Attempt, Finished
from app.core.config.load import load_config
from app.core.config.schema import Privacy
from app.core.conversation.saved import stored_message
from app.core.documents.sources import sources_from
from app.core.errors import DataError, InvalidInput
from app.core.evaluation import stats
from app.core.paths import user_paths
from app.core.session import open_session
from app.core.storage import archive
from app.core.storage.outbound_records import OutboundRecords
from app.core.storage.store import Store
from app.ui.conversation_model import item_of
from tests.conftest import REPO, config_text, write_user_config
from tests.fault_server import fault_server, received
from tests.window_helpers import items, open_window

SHA = "ab" * 32


def exported(tmp_path: Path) -> dict[str, Any]:
    """A real export of one conversation: a question and its answer, with one remote attempt."""
    store = Store(tmp_path / "source.db")
    try:
        conversation = store.create_conversation("Trip")
        store.add_message(conversation, "user", "Where should I stay in Paris?")
        answer = store.add_message(conversation, "assistant", "Le Marais.")
        attempt = Attempt("cloud", "gpt", "cloud", text="Le Marais.", confidence=0.9, signals={"n_tokens": 3})
        attempt.tokens_in, attempt.tokens_out, attempt.cost = 12, 3, 0.25
        attempt.destination, attempt.policy, attempt.payload_sha256 = "api.example.com", "cloud-auto", SHA
        store.add_attempts(answer, [attempt])
        return json.loads(archive.export(store, [conversation]).model_dump_json())
    finally:
        store.close()


def hostile(tmp_path: Path, change: str, value: object) -> Path:
    """The export with one value changed: ``change`` is "conversation.arm", "message.role", "attempt.cost"."""
    document = exported(tmp_path)
    conversation = document["conversations"][0]
    row = {
        "conversation": conversation,
        "message": conversation["messages"][1],
        "attempt": conversation["messages"][1]["attempts"][0],
    }[change.split(".")[0]]
    row[change.split(".")[1]] = value
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@pytest.fixture
def store(tmp_path: Path):
    store = Store(tmp_path / "hearth.db")
    store.add_message(store.create_conversation("Mine"), "user", "Already here")
    yield store
    store.close()


@pytest.mark.parametrize(
    ("change", "value", "named"),
    [
        ("conversation.arm", "C", "conversation 1 “Trip”: its field 'arm' is 'C'"),
        ("conversation.privacy", "bogus", "conversation 1 “Trip”: its field 'privacy' is 'bogus'"),
        ("conversation.created_at", "yesterday", "its field 'created_at' is 'yesterday'"),
        ("message.role", "wizard", "message 2 (id 2): its field 'role' is 'wizard'"),
        ("message.status", "done", "message 2 (id 2): its field 'status' is 'done'"),
        ("message.after_id", 99, "message 2: its after_id 99 is no earlier message"),
        ("attempt.signals", "not json", "attempt 1: its field 'signals'"),
        ("attempt.signals", "[" * 20_000, "attempt 1: its field 'signals'"),  # deeper than json.loads follows
        ("attempt.signals", {"n": [1, 2]}, "attempt 1: its field 'signals.n"),
        ("attempt.confidence", "high", "attempt 1: its field 'confidence' is 'high'"),
        ("attempt.confidence", 7.5, "its field 'confidence' is 7.5 (Input should be less than or equal to 1)"),
        ("attempt.cost", -1e6, "its field 'cost' is -1000000.0 (Input should be greater than or equal to 0)"),
        ("attempt.location", "mars", "its field 'location' is 'mars'"),
        ("attempt.redacted", "{oops", "its field 'redacted'"),
        ("attempt.unknown", 1, "it has a field 'unknown' Hearth does not know"),
    ],
)
def test_an_import_the_reader_would_refuse_is_refused_whole_naming_where(
    store: Store, tmp_path: Path, change: str, value: object, named: str
):
    with pytest.raises(DataError) as refused:
        archive.import_document(store, archive.read_document(hostile(tmp_path, change, value)))
    assert named in str(refused.value) and "Nothing was imported." in str(refused.value)
    assert [c.title for c in store.conversations()] == ["Mine"]  # nothing stored, nothing lost
    assert store.thread(store.conversations()[0].id)[0].content == "Already here"


def test_imported_costs_never_count_towards_the_budget_and_are_no_audit_rows(store: Store, tmp_path: Path):
    document = exported(tmp_path)
    path = tmp_path / "export.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    (conversation,) = archive.import_document(store, archive.read_document(path))
    answer = store.thread(conversation)[-1]
    (attempt,) = store.attempts(answer.id)
    assert attempt.cost == 0.25 and attempt.imported  # the record keeps what the file says...
    assert store.cost_since("") == 0.0  # ...but this installation spent nothing on it
    assert OutboundRecords(store).audit() == []  # and nothing of it left this computer from here


def test_spending_and_the_budget_count_only_what_this_computer_spent(hearth_home: Path, model_file: Path):
    write_user_config(hearth_home, config_text(model_file).replace("[settings]", "[settings]\nmonthly_budget = 1.0"))
    paths = user_paths()
    paths.ensure()
    store = Store(paths.database)
    try:
        spent = store.add_message(store.create_conversation("Spent"), "assistant", "Paid for.")
        paid = Attempt("cloud", "gpt", "cloud", text="Paid for.")
        paid.cost = 1.0
        store.add_attempts(spent, [paid])
        path = hearth_home / "export.json"
        path.write_text(json.dumps(exported(hearth_home)), encoding="utf-8")  # its attempt cost $0.25 elsewhere
        archive.import_document(store, archive.read_document(path))
        report = stats.compute(store, load_config(paths))
        store_spent = store.cost_since("")
    finally:
        store.close()
    assert store_spent == 1.0  # what the monthly budget is checked against
    assert report.spending.this_month == 1.0 and report.spending.total == 1.0
    assert [row.title for row in report.spending.by_conversation] == ["Spent"]


def test_an_imported_attachment_path_is_never_read_or_sent_on_regenerate(
    hearth_home: Path, model_file: Path, tmp_path: Path
):
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG\r\n\x1a\n" + b"SECRET-PIXELS" * 8)
    document = exported(tmp_path)
    document["conversations"][0]["messages"][0]["attachments"] = json.dumps([str(secret)])
    path = tmp_path / "export.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with fault_server() as server:
        text = config_text(
            model_file, privacy="local-and-self-hosted", threshold=1.0, server_url=f"{server}/openai-compatible/echo"
        )
        write_user_config(hearth_home, text.replace('name = "self-hosted"', 'name = "self-hosted"\nimages = true'))
        session = open_session()
        try:
            store = session.open_store()
            (conversation,) = archive.import_document(store, archive.read_document(path))
            question, answer = store.thread(conversation)
            store.close()
            events = list(session.chat.regenerate(answer.id))
        finally:
            session.close()
    assert any(isinstance(event, Finished) for event in events)
    assert received(), "the answer did not reach the self-hosted tier"
    assert all("data:image" not in body for body in received())
    assert question.attachments is None


def written(tmp_path: Path, document: dict[str, Any]) -> Path:
    path = tmp_path / "export.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_an_imported_answers_sources_cannot_open_a_file(store: Store, tmp_path: Path):
    planted = [{"number": 1, "collection": "work", "path": r"\\attacker\s\x.pdf", "page": 2, "chunk_ids": [1]}]
    assert [source.path for source in sources_from(planted)] == [planted[0]["path"]]  # the window would open it
    document = exported(tmp_path)
    document["conversations"][0]["messages"][1]["sources"] = json.dumps(planted)
    document["conversations"][0]["messages"][0]["collections"] = json.dumps(["work"])
    (conversation,) = archive.import_document(store, archive.read_document(written(tmp_path, document)))
    question, answer = store.thread(conversation)
    assert answer.sources is None and question.collections is None  # the other computer's files and collections
    assert item_of(stored_message(store, answer.id)).sources == ()  # nothing under the answer to click
    assert answer.content == "Le Marais."  # the answer itself is kept


@pytest.mark.parametrize(
    ("in_file", "app_policy", "kept"),
    [
        ("cloud-auto", Privacy.LOCAL_ONLY, None),  # wider than the app's: it follows the app's
        ("cloud-auto", Privacy.CLOUD_WITH_CONSENT, None),
        ("local-and-self-hosted", Privacy.LOCAL_ONLY, None),
        ("local-only", Privacy.CLOUD_AUTO, "local-only"),  # more private: kept
        ("cloud-with-consent", Privacy.CLOUD_WITH_CONSENT, "cloud-with-consent"),
        ("cloud-with-consent", Privacy.CLOUD_AUTO, "cloud-with-consent"),
    ],
)
def test_an_imported_conversation_cannot_widen_its_privacy_beyond_the_apps(
    store: Store, tmp_path: Path, in_file: str, app_policy: Privacy, kept: str | None
):
    document = exported(tmp_path)
    document["conversations"][0].update(privacy=in_file, pinned=True)
    path = written(tmp_path, document)
    (conversation,) = archive.import_document(store, archive.read_document(path), app_policy)
    row = store.conversation(conversation)
    assert row.privacy == kept
    assert row.pinned  # harmless: kept


def test_hearth_import_keeps_no_policy_wider_than_the_apps_and_no_local_api_client(
    configured_home: Path, tmp_path: Path
):
    document = exported(tmp_path)
    document["conversations"][0].update(privacy="cloud-auto", api_client="curl/8.0")
    assert main(["import", str(written(tmp_path, document))]) == 0  # the app's policy here: local-only
    session = open_session()
    try:
        store = session.open_store()
        try:
            (row,) = store.conversations()
            effective = session.chat.privacy.effective(store, row.id)
        finally:
            store.close()
    finally:
        session.close()
    assert row.privacy is None and effective is Privacy.LOCAL_ONLY  # no cloud answer without consent
    assert row.api_client is None  # no later local-API request continues it


def surrogate_title(tmp_path: Path) -> bytes:
    document = exported(tmp_path)
    document["conversations"][0]["title"] = "\ud800"
    return json.dumps(document).encode()  # JSON escapes it: valid JSON, but no text SQLite can store


@pytest.mark.parametrize(
    ("content", "named"),
    [
        (lambda _: b"[" * 2000, "nests arrays or objects too deeply to be read"),
        (lambda _: b'{"format": "hearth-export", "x": ' + b'{"a": ' * 5000, "nests arrays or objects too deeply"),
        (surrogate_title, "conversation 1 “\\ud800”: its field 'title' holds text that is no Unicode"),
        (lambda _: b"\xff\xfe\x00garbage", "is not a Hearth JSON export"),
        (lambda _: b" " * 2_000_001, "is larger than 2 MB, the most Hearth takes for a conversation import"),
    ],
)
def test_an_unreadable_import_file_is_refused_clearly_and_loses_nothing(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content, named: str
):
    monkeypatch.setattr(archive, "MOST_BYTES", 2_000_000)  # the real limit is 200 MB
    path = tmp_path / "bad.json"
    path.write_bytes(content(tmp_path))
    with pytest.raises(InvalidInput if "larger" in named else DataError) as refused:
        archive.import_document(store, archive.read_document(path))
    assert named in str(refused.value)
    str(refused.value).encode("utf-8")  # the message itself can be printed
    assert [c.title for c in store.conversations()] == ["Mine"]
    assert store.thread(store.conversations()[0].id)[0].content == "Already here"


def test_a_message_of_no_unicode_names_its_message_and_field(store: Store, tmp_path: Path):
    document = exported(tmp_path)
    document["conversations"][0]["messages"][1]["content"] = "Le Marais \udfff"
    with pytest.raises(DataError) as refused:
        archive.read_document(written(tmp_path, document))
    assert "conversation 1 “Trip”, message 2 (id 2): its field 'content' holds text that is no Unicode" in str(
        refused.value
    )


def test_an_import_that_fails_part_way_stores_none_of_it(store: Store, tmp_path: Path):
    raw = exported(tmp_path)
    second = json.loads(json.dumps(raw["conversations"][0]))
    second["messages"][1]["content"] = "\ud800"  # past read_document's check: the database refuses it
    raw["conversations"].append(second)
    with pytest.raises(UnicodeEncodeError):
        archive.import_document(store, archive.ExportDocument.model_validate(raw))
    assert [c.title for c in store.conversations()] == ["Mine"]  # the first conversation was rolled back too
    assert store.search("Marais") == []


def hearth(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, cwd=REPO, timeout=120)


def test_hearth_import_refuses_a_hostile_file_and_everything_still_works(configured_home: Path, tmp_path: Path):
    refused = hearth("import", str(hostile(tmp_path, "conversation.arm", "C")))
    assert refused.returncode == 1 and "its field 'arm' is 'C'" in refused.stderr and "Traceback" not in refused.stderr
    for command in (["stats"], ["export", str(tmp_path / "all.json")], ["audit"]):
        done = hearth(*command)
        assert done.returncode == 0 and "Traceback" not in done.stderr, (command, done.stderr)


def spoiled(home: Path, *answer_changes: str) -> tuple[int, int, int]:
    """Two conversations; the first stored against the rules, as an older bug or a hand edit would leave it:
    arm 'C', privacy 'bogus', and each of ``answer_changes`` ("messages SET role = 'wizard'") made to its
    answer. Returns the spoiled conversation's id, the sound one's, and the spoiled answer's."""
    database = home / "data" / "hearth.db"
    database.parent.mkdir(parents=True, exist_ok=True)
    store = Store(database)
    try:
        bad = store.create_conversation("Spoiled")
        store.add_message(bad, "user", "Question")
        answer = store.add_message(bad, "assistant", "Answer")
        store.add_attempts(answer, [Attempt("local", "smol", "local", text="Answer", confidence=0.5)])
        sound = store.create_conversation("Sound")
        store.add_message(sound, "user", "Still readable")
    finally:
        store.close()
    with sqlite3.connect(database) as db:
        db.execute(f"UPDATE conversations SET arm = 'C', privacy = 'bogus' WHERE id = {bad}")
        for change in answer_changes:
            column = "message_id" if change.startswith("attempts") else "id"
            db.execute(f"UPDATE {change} WHERE {column} = {answer}")
    return bad, sound, answer


def test_rows_against_the_rules_stop_no_command_and_name_the_problem(configured_home: Path, tmp_path: Path):
    spoiled_id, _, answer = spoiled(
        configured_home, "messages SET role = 'wizard'", "attempts SET confidence = 'high', signals = 'garbage'"
    )
    versions = hearth("versions", str(answer))
    assert (
        versions.returncode == 1 and f"Message {answer} of conversation {spoiled_id} cannot be read" in versions.stderr
    )
    assert "its field 'role' is 'wizard'" in versions.stderr
    stats_run = hearth("stats")
    assert stats_run.returncode == 0 and "1 attempts could not be read" in stats_run.stdout
    export = hearth("export", str(tmp_path / "all.json"))
    assert export.returncode == 1 and "left out: Conversation" in export.stderr and "'arm' is 'C'" in export.stderr
    kept = json.loads((tmp_path / "all.json").read_text())["conversations"]
    assert [c["title"] for c in kept] == ["Sound"]
    delete = hearth("delete", str(spoiled_id))
    assert delete.returncode == 0 and "Deleted “Spoiled”" in delete.stdout
    for run in (versions, stats_run, export, delete):
        assert "Traceback" not in run.stderr and "unexpected error" not in run.stderr
    assert not (configured_home / "data" / "crash-reports").exists()


def test_the_window_opens_lists_a_spoiled_conversation_with_its_problem_and_opens_the_others(
    qtbot, configured_home: Path
):
    spoiled_id, sound, _ = spoiled(configured_home, "messages SET status = 'done'")
    with open_window(qtbot, prepare=False) as win:
        titles = [win.sidebar.list.item(row).text() for row in range(win.sidebar.list.count())]
        assert "⚠ Spoiled" in titles and "Sound" in titles
        win.conversations.open_conversation(spoiled_id)
        assert items(win) == [] and "its field 'status' is 'done'" in win.chat.empty_state.text()
        assert win.session.chat.privacy.effective(win.store, spoiled_id).value == "local-only"  # the safest
        win.conversations.open_conversation(sound)
        assert [item.text for item in items(win)] == ["Still readable"]
