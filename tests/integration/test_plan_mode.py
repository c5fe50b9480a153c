"""Plan mode: a planner splits a request, each part runs through the cascade like a message of its own
(routed by its task, through the outgoing gate), parts that need no other run side by side, a synthesiser
joins them; every step is an attempt of the answer, kept across a kill and exported.

The real SmolLM2 plans and answers (its plans are poor: these tests check the machinery, not the prose);
Gemma 3 270M behind llama-cpp-python's own server is the second worker.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.answers import Finished
from app.core.conversation.teamwork.events import PartDone, PartStarted, PlanReady
from app.core.conversation.teamwork.plans import Part, Plan, edited, parse_plan, split_request
from app.core.conversation.teamwork.steps import step_of, stored_plan
from app.core.errors import InvalidInput
from app.core.paths import user_paths
from app.core.privacy.gate import Decision
from app.core.routing.tasks import Task
from app.core.session import open_session
from app.core.storage.archive import export
from app.core.storage.store import Store
from tests.conftest import REPO, config_text, fetch_gemma_model, serve_model, write_user_config

FEEDBACK = "Summarise this feedback: the app is slow and crashes on login. Then write a short reply e-mail."


@pytest.fixture(scope="module")
def gemma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_model(fetch_gemma_model(), "gemma", tmp_path_factory.mktemp("gemma") / "server.log") as url:
        yield url


def with_worker(model_file: Path, url: str, *, privacy: str = "local-and-self-hosted") -> str:
    """The real local model, and Gemma on a server of the user's own that the map says is good at writing."""
    text = config_text(model_file, privacy=privacy, server_url=url, threshold=0.0)
    text = text.replace('model = "smol-server"', 'model = "gemma"\ngood_at = ["writing"]')
    return text.replace("temperature = 0.0\n", 'temperature = 0.0\ngood_at = ["summarising", "speed"]\n', 1)


def test_the_planners_text_is_read_leniently():
    plan = parse_plan(
        "Sure! Here is the plan:\n1. [summarising] Summarise the feedback.\n2) [poetry] write a reply e-mail "
        "(after 1)\n3. [translation] Translate the reply into French. (after 2, 7)\n",
        "request",
    )
    assert plan is not None and plan.source == "planner"
    assert [(p.number, p.task, p.depends_on) for p in plan.parts] == [
        (1, Task.SUMMARISING, ()),
        (2, Task.WRITING, (1,)),  # an unknown kind is read by the rules; a later or unknown part is dropped
        (3, Task.TRANSLATION, (2,)),
    ]
    assert [[p.number for p in wave] for wave in plan.waves()] == [[1], [2], [3]]
    assert parse_plan("I cannot help with that.", "request") is None


def test_without_a_usable_plan_the_request_is_cut_into_its_clauses():
    plan = split_request("Summarise this customer feedback, list the pain points and then draft a reply e-mail", "why")
    assert [(p.task, p.text, p.depends_on) for p in plan.parts] == [
        (Task.SUMMARISING, "Summarise this customer feedback", ()),
        (Task.EXTRACTION, "List the pain points", ()),
        (Task.WRITING, "Draft a reply e-mail", (2,)),
    ]
    assert [[p.number for p in wave] for wave in plan.waves()] == [[1, 2], [3]]


def test_a_part_the_user_edits_asks_the_new_text_and_keeps_its_place_in_the_plan():
    plan = split_request("Summarise this customer feedback, list the pain points and then draft a reply e-mail", "")
    changed = edited(plan, 3, "  Translate the pain points into French  ")
    assert [(p.number, p.task, p.text, p.depends_on) for p in changed.parts][2] == (
        3, Task.TRANSLATION, "Translate the pain points into French", (2,),
    )  # fmt: skip
    assert changed.parts[:2] == plan.parts[:2] and changed.source == "edited"
    assert edited(plan, 1, "Do it thoroughly").parts[0].task == Task.SUMMARISING, "no rule matched: the task stays"
    with pytest.raises(InvalidInput, match="Part 2 needs something to ask"):
        edited(plan, 2, " \n ")


def test_parts_go_to_the_model_good_at_them_side_by_side_and_every_step_is_stored_and_exported(
    hearth_home: Path, model_file: Path, gemma_server: str
):
    write_user_config(hearth_home, with_worker(model_file, gemma_server))
    plan = Plan(
        (
            Part(1, Task.SUMMARISING, "Summarise: the app is slow and crashes on login."),
            Part(2, Task.WRITING, "Write a one-line thank-you note to the customer."),
        ),
        "stored",
    )
    session = open_session()
    try:
        events = list(session.chat.send(None, FEEDBACK, plan=plan))
        answer = next(e.answer for e in events if isinstance(e, Finished))
        started = [e for e in events if isinstance(e, PartStarted)]
        done = [e for e in events if isinstance(e, PartDone)]
        # Both parts were under way before either ended: they ran side by side, each on its own model.
        order = [e for e in events if isinstance(e, PartStarted | PartDone)]
        assert [type(e).__name__ for e in order[:2]] == ["PartStarted", "PartStarted"]
        assert {(e.number, e.model_id) for e in started if e.number in (1, 2)} == {(1, "smollm2-135m"), (2, "server")}
        assert all(d.ok for d in done[:2]) and answer.complete and answer.text.strip()
        assert (
            "part 1 (summarising) by smollm2-135m at local; part 2 (writing) by server at local-and"
            not in answer.reason
        )
        assert "part 2 (writing) by server at self-hosted" in answer.reason

        store = session.open_store()
        try:
            message_id = events[0].answer_id
            rows = store.attempts(message_id)
            steps = [step_of(row) for row in rows]
            assert [s.role for s in steps if s] == ["part", "part", "synthesis"] or sorted(
                s.role for s in steps if s
            ) == ["part", "part", "synthesis"]
            writing = next(row for row, s in zip(rows, steps, strict=True) if s and s.number == 2)
            assert writing.model == "server" and writing.location == "self-hosted"
            assert "Task: writing" in (writing.reason or "") and "server (self-hosted" in (writing.reason or "")
            assert stored_plan(rows, FEEDBACK).parts == plan.parts
            assert store.message(message_id).content == answer.text
            exported = export(store, [events[0].conversation_id])
            kept = [a.step for m in exported.conversations[0].messages for a in m.attempts if a.step]
            assert len(kept) == 3 and json.loads(kept[0])["role"] == "part"
        finally:
            store.close()
    finally:
        session.close()


def test_a_part_the_gate_keeps_here_is_said_plainly_and_the_rest_is_still_joined(hearth_home: Path, model_file: Path):
    text = (
        config_text(model_file, privacy="cloud-with-consent", threshold=0.0)
        .replace(
            'location = "self-hosted"\nbase_url = "http://127.0.0.1:9/v1"',
            'location = "cloud"\nbase_url = "https://api.example.com/v1"\ngood_at = ["translation"]',
        )
        .replace('name = "self-hosted"', 'name = "cloud"')
    )
    write_user_config(hearth_home, text)
    asked: list[str] = []

    def not_now(request):
        asked.append(request.destination)
        return Decision.NOT_NOW

    plan = Plan(
        (
            Part(1, Task.SUMMARISING, "Summarise: the app is slow."),
            Part(2, Task.TRANSLATION, "Translate the summary into French.", (1,)),
        ),
        "stored",
    )
    session = open_session(consent=not_now)
    try:
        events = list(session.chat.send(None, "Summarise: the app is slow. Then translate it into French.", plan=plan))
        answer = next(e.answer for e in events if isinstance(e, Finished))
        refused = next(e for e in events if isinstance(e, PartDone) and e.number == 2)
        assert not refused.ok and "server" in (refused.problem or "")
        assert answer.warning is not None and answer.warning.startswith("Not done: part 2 (Translate the summary")
        assert asked and all("server" in a for a in asked)  # consent was asked, naming the destination
        store = session.open_store()
        try:
            stored = store.message(events[0].answer_id)
            assert stored.warning == answer.warning and stored.status == "complete"
            assert not [a for a in store.attempts(stored.id) if a.location == "cloud" and a.error is None]
        finally:
            store.close()
    finally:
        session.close()


def test_stopping_a_plan_keeps_the_steps_already_done(configured_home: Path):
    session = open_session()
    try:
        events = session.chat.send(None, FEEDBACK, plan=True)
        seen = []
        for event in events:
            seen.append(event)
            if isinstance(event, PartDone) and event.number >= 1:
                break
        events.close()  # the user pressed Stop
        plan = next(e.plan for e in seen if isinstance(e, PlanReady))
        assert len(plan.parts) >= 2
        store = session.open_store()
        try:
            message = store.message(seen[0].answer_id)
            rows = store.attempts(message.id)
            roles = [s.role for s in map(step_of, rows) if s]
            assert roles[0] == "planner" and "part" in roles and "synthesis" not in roles
            assert message.status == "incomplete"
        finally:
            store.close()
    finally:
        session.close()


def test_hearth_ask_plan_prints_the_plan_and_records_each_step(hearth_home: Path, model_file: Path):
    write_user_config(hearth_home, config_text(model_file, max_answer_tokens=24))
    result = subprocess.run(
        [sys.executable, "-m", "app", "ask", "--plan", FEEDBACK],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert "[plan by " in result.stderr and "[part 1 done · local · smollm2-135m" in result.stderr
    assert "[synthesis done" in result.stderr and result.stdout.strip()  # the joined answer on stdout
    store = Store(user_paths().database)
    try:
        answer = [m for m in store.messages(store.conversations()[0].id) if m.role == "assistant"][0]
        roles = [s.role for s in map(step_of, store.attempts(answer.id)) if s]
    finally:
        store.close()
    assert roles[0] == "planner" and roles[-1] == "synthesis" and roles.count("part") >= 2


def test_a_request_with_several_parts_is_planned_by_itself_only_where_the_user_turned_that_on(
    hearth_home: Path, model_file: Path
):
    text = config_text(model_file, max_answer_tokens=16)
    assert "[plan]" not in text
    asked = []
    for automatic in (False, True):
        write_user_config(hearth_home, f"{text}\n[plan]\nautomatic = {str(automatic).lower()}\n")
        asked.append(
            subprocess.run(
                [sys.executable, "-m", "app", "ask", FEEDBACK], capture_output=True, text=True, cwd=REPO, timeout=600
            )
        )
    plain, planned = asked
    assert plain.returncode == 0 and "[plan by " not in plain.stderr
    assert planned.returncode == 0 and "[plan by " in planned.stderr and "[synthesis done" in planned.stderr
