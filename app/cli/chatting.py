"""Chat commands: ask, reask, feedback, and a conversation's privacy policy."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import Any

from app.cli.planning import PlanPrinter
from app.cli.terminal import ProgressPrinter, ask_consent_on_terminal, json_text
from app.core.answers import Answer, AttemptStarted, Finished, TextDelta
from app.core.config.schema import Privacy
from app.core.conversation.chat import ChatEvent, Routed, UserMessageSaved
from app.core.conversation.summary import set_summary
from app.core.documents.answering import Cited
from app.core.errors import HearthError, NoStrongerModel
from app.core.paths import user_paths
from app.core.session import Session, open_session, session_and_store
from app.core.storage.store import Store


def answer_json(answer: Answer, conversation_id: int | None) -> dict[str, Any]:
    return {
        "answer": answer.text,
        "tier": answer.tier,
        "model": answer.model_id,
        "confidence": answer.confidence,
        "escalated": answer.escalated,
        "reason": answer.reason,
        "latency_ms": round(answer.latency_ms, 1),
        "tokens": answer.tokens_out,
        "tokens_in": answer.tokens_in,
        "complete": answer.complete,
        "warning": answer.warning,
        "conversation_id": conversation_id,
        "attempts": [
            {
                "tier": a.tier,
                "model": a.model_id,
                "location": a.location,
                "confidence": a.confidence,
                "latency_ms": round(a.latency_ms, 1),
                "first_token_ms": None if a.first_token_ms is None else round(a.first_token_ms, 1),
                "tokens": a.tokens_out,
                "error": a.error,
                "reason": a.reason,
                "step": json.loads(a.step) if a.step else None,
            }
            for a in answer.attempts
        ],
    }


def cmd_ask(args: argparse.Namespace) -> int:
    session = open_session(progress=ProgressPrinter(), consent=ask_consent_on_terminal)
    try:
        events = session.chat.send(
            args.conversation,
            args.question,
            privacy=args.privacy,
            quick=args.quick,
            attachments=args.image,
            documents=args.docs,
            plan=args.plan,
            refine=args.refine,
        )
        return _show(events, args.json, args.conversation, None)
    finally:
        session.close()


def cmd_reask(args: argparse.Namespace) -> int:
    session = open_session(progress=ProgressPrinter(), consent=ask_consent_on_terminal)
    try:
        store = session.open_store()
        try:
            conversation_id = store.message(args.message).conversation_id
        finally:
            store.close()
        events = session.chat.reask(args.message, privacy=args.privacy)
        try:
            return _show(events, args.json, conversation_id, args.message)
        except NoStrongerModel as exc:
            print(f"hearth: {exc}\n{_how_to_get_stronger(exc, session, conversation_id)}", file=sys.stderr)
            return exc.exit_code
    finally:
        session.close()


def _how_to_get_stronger(problem: NoStrongerModel, session: Session, conversation_id: int) -> str:
    where = session.paths.user_config_file
    if not problem.configured:
        return (
            f"Add a self-hosted server or a cloud model as a tier in {where} (copy Hearth's default models.toml "
            "there first; its comments show how)."
        )
    return (
        f"To let one answer, allow it for this conversation (`hearth privacy {conversation_id} POLICY`), for this "
        f"re-ask (`--privacy POLICY`), or for every message (`privacy = ...` in {where})."
    )


def _show(events: Iterator[ChatEvent], as_json: bool, conversation_id: int | None, message_id: int | None) -> int:
    """Stream the answer to the terminal, or print it as one JSON object at the end."""
    answer: Answer | None = None
    route: dict[str, object] | None = None
    cited: Cited | None = None
    plan = PlanPrinter(quiet=as_json)
    for event in events:
        if plan.show(event):
            continue
        if isinstance(event, UserMessageSaved):
            conversation_id, message_id = event.conversation_id, event.answer_id
        elif isinstance(event, Routed):
            route = event.route.as_dict()
        elif isinstance(event, Cited):
            cited = event
        elif isinstance(event, Finished):
            answer = event.answer
        elif as_json:
            continue
        elif isinstance(event, AttemptStarted) and event.index > 0:
            print(f"\n\n[escalating to {event.tier}: {event.label}]", file=sys.stderr)
        elif isinstance(event, TextDelta):
            sys.stdout.write(event.text)
            sys.stdout.flush()
    assert answer is not None
    sources = cited.sources if cited else []
    if as_json:
        summary = {**answer_json(answer, conversation_id), "message_id": message_id, "route": route}
        if cited is not None:
            summary["sources"] = [{**source.model_dump(), "label": source.label} for source in sources]
        print(json_text(summary))
    else:
        confidence = "n/a" if answer.confidence is None else f"{answer.confidence:.2f}"
        print(f"\n\n[{answer.tier} · {answer.model_id} · confidence {confidence}] {answer.reason}", file=sys.stderr)
        for source in sources:
            print(f"[{source.number}] {source.label} — {source.url()}", file=sys.stderr)
        if answer.warning:
            print(f"⚠ {answer.warning}", file=sys.stderr)
    return 0 if answer.complete else 1


def cmd_feedback(args: argparse.Namespace) -> int:
    with session_and_store() as (session, store):
        if store.message(args.message).role != "assistant":
            raise HearthError(f"Message {args.message} is not an answer.")
        session.learner.rate(store, args.message, good=args.rating == "up")
    print(f"Thanks: thumbs {args.rating} recorded for answer {args.message}.")
    return 0


def cmd_privacy(args: argparse.Namespace) -> int:
    session = open_session()
    try:
        policy = None if args.policy == "default" else Privacy(args.policy)
        session.chat.privacy.choose(args.conversation, policy)
    finally:
        session.close()
    follows = f"follows the app's policy ({session.config.settings.privacy.value})"
    print(f"Conversation {args.conversation} " + (f"is now {policy.value}." if policy else follows + "."))
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    session = open_session()
    try:
        store = session.open_store()
        try:
            if args.set is not None:
                set_summary(store, args.conversation, args.set)
            summary = store.summary(args.conversation)
        finally:
            store.close()
    finally:
        session.close()
    if summary is None:
        print("This conversation has no summary yet: it still fits the model whole.")
    else:
        who = "you" if summary.edited else "the local model"
        print(f"{summary.content}\n\n(covers messages up to {summary.covers_through}; last written by {who})")
    return 0


def cmd_regenerate(args: argparse.Namespace) -> int:
    session = open_session(progress=ProgressPrinter(), consent=ask_consent_on_terminal)
    try:
        return _show(session.chat.regenerate(args.message), args.json, None, None)
    finally:
        session.close()


def cmd_edit(args: argparse.Namespace) -> int:
    session = open_session(progress=ProgressPrinter(), consent=ask_consent_on_terminal)
    try:
        store = session.open_store()
        try:
            original = store.message(args.message)
        finally:
            store.close()
        if original.role != "user":
            raise HearthError("Only your own messages can be edited; use `hearth regenerate` for an answer.")
        events = session.chat.send(original.conversation_id, args.text, replaces=args.message)
        return _show(events, args.json, original.conversation_id, None)
    finally:
        session.close()


def cmd_versions(args: argparse.Namespace) -> int:
    store = Store(user_paths().database)
    try:
        versions = store.versions(args.message)
        on_show = {m.id for m in store.thread(versions[0].conversation_id)}
    finally:
        store.close()
    for version in versions:
        mark = "*" if version.id in on_show else " "
        first_line = version.content.splitlines()[0] if version.content else ""
        print(f"{mark} {version.id} {version.created_at[:19].replace('T', ' ')}  {first_line[:70]}")
    return 0


def cmd_switch(args: argparse.Namespace) -> int:
    store = Store(user_paths().database)
    try:
        store.show_version(args.message)
    finally:
        store.close()
    print(f"Showing the branch through message {args.message}.")
    return 0
