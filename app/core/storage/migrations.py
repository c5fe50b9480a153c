"""Schema migrations: a plain list of functions, each applied once and recorded."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from datetime import UTC, datetime

from sqlite_utils import Database


def m001_conversations_messages_attempts(db: Database) -> None:
    db["conversations"].create(
        {"id": int, "title": str, "created_at": str, "updated_at": str, "privacy": str},
        pk="id",
        not_null={"title", "created_at", "updated_at"},
    )
    db["messages"].create(
        {"id": int, "conversation_id": int, "role": str, "content": str, "status": str, "created_at": str},
        pk="id",
        foreign_keys=[("conversation_id", "conversations", "id")],
        not_null={"conversation_id", "role", "content", "status", "created_at"},
    )
    db["messages"].create_index(["conversation_id", "id"])
    db["attempts"].create(
        {
            "id": int,
            "message_id": int,
            "position": int,
            "tier": str,
            "model": str,
            "location": str,
            "text": str,
            "confidence": float,
            "signals": str,
            "latency_ms": float,
            "first_token_ms": float,
            "tokens_in": int,
            "tokens_out": int,
            "finish_reason": str,
            "error": str,
            "reason": str,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("message_id", "messages", "id")],
        not_null={"message_id", "position", "tier", "model", "location", "text", "created_at"},
    )
    db["attempts"].create_index(["message_id", "position"])


def m002_answer_warnings_and_routing_events(db: Database) -> None:
    db["messages"].add_column("warning", str)
    db["routing_events"].create(
        {"id": int, "message_id": int, "kind": str, "from_tier": str, "to_tier": str, "created_at": str},
        pk="id",
        foreign_keys=[("message_id", "messages", "id")],
        not_null={"message_id", "kind", "created_at"},
    )
    db["attempts"].add_column("trigger", str, not_null_default="auto")


def m003_costs_routes_and_attachments(db: Database) -> None:
    db["attempts"].add_column("cost", float, not_null_default=0.0)
    db["messages"].add_column("route", str)
    db["messages"].add_column("attachments", str)


def m004_arms_feedback_and_shadow_runs(db: Database) -> None:
    db["conversations"].add_column("arm", str, not_null_default="A")
    db["feedback"].create(
        {"id": int, "message_id": int, "rating": int, "created_at": str},
        pk="id",
        foreign_keys=[("message_id", "messages", "id")],
        not_null={"message_id", "rating", "created_at"},
    )
    db["shadow_runs"].create(
        {
            "id": int,
            "message_id": int,
            "champion": str,
            "challenger": str,
            "agreement": float,
            "champion_confidence": float,
            "challenger_confidence": float,
            "champion_latency_ms": float,
            "challenger_latency_ms": float,
            "challenger_tokens": int,
            "challenger_cost": float,
            "error": str,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("message_id", "messages", "id")],
        not_null={"message_id", "champion", "challenger", "created_at"},
    )


def m005_audit_trail(db: Database) -> None:
    for column in ("destination", "policy", "payload_sha256", "redacted"):
        db["attempts"].add_column(column, str)


def m006_search_pins_and_branches(db: Database) -> None:
    """Full-text search over every message (kept in step by triggers), pinned conversations, edit branches."""
    db["conversations"].add_column("pinned", int, not_null_default=0)
    db["messages"].add_column("parent_id", int)
    db.execute(
        "CREATE VIRTUAL TABLE messages_fts USING fts5(content, content='messages', content_rowid='id', "
        "tokenize='unicode61 remove_diacritics 2')"
    )
    db.execute("INSERT INTO messages_fts(rowid, content) SELECT id, content FROM messages")
    db.execute(
        "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN "
        "INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content); END"
    )
    db.execute(
        "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN "
        "INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content); END"
    )
    db.execute(
        "CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN "
        "INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content); "
        "INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content); END"
    )


def m007_summaries(db: Database) -> None:
    db["summaries"].create(
        {"conversation_id": int, "content": str, "covers_through": int, "edited": int, "updated_at": str},
        pk="conversation_id",
        foreign_keys=[("conversation_id", "conversations", "id")],
        not_null={"content", "covers_through", "updated_at"},
    )


def m008_attempt_provider(db: Database) -> None:
    db["attempts"].add_column("provider", str)


def m009_threads(db: Database) -> None:
    """Messages form a tree (each follows one message); a conversation shows the path to its leaf."""
    db["messages"].add_column("after_id", int)
    db["conversations"].add_column("leaf_id", int)
    db.execute(
        "UPDATE messages SET after_id = (SELECT MAX(p.id) FROM messages p "
        "WHERE p.conversation_id = messages.conversation_id AND p.id < messages.id)"
    )
    db.execute(
        "UPDATE conversations SET leaf_id = (SELECT MAX(id) FROM messages WHERE conversation_id = conversations.id)"
    )
    db["messages"].create_index(["after_id"])


def m010_imported_attempts(db: Database) -> None:
    """Attempts that came in with an imported conversation: history, never budget or audit rows."""
    db["attempts"].add_column("imported", int, not_null_default=0)


def m011_outbound_gate(db: Database) -> None:
    """The outgoing gate's own records: every request it let leave (the audit), destinations a
    conversation sends to without asking, and models resting after repeated failures."""
    db["outbound"].create(
        {
            "id": int,
            "created_at": str,
            "conversation_id": int,
            "message_id": int,
            "purpose": str,
            "model": str,
            "location": str,
            "address": str,
            "destination": str,
            "policy": str,
            "basis": str,
            "payload_sha256": str,
            "redacted": str,
            "estimated_cost": float,
            "cost": float,
            "outcome": str,
        },
        pk="id",
        not_null={"created_at", "purpose", "model", "location", "policy", "basis", "payload_sha256"},
    )
    db["outbound"].create_index(["conversation_id"])
    # What earlier versions recorded (on the attempts) stays in the audit.
    db.execute(
        "INSERT INTO outbound (created_at, conversation_id, message_id, purpose, model, location, destination, "
        "policy, basis, payload_sha256, redacted, cost, outcome) "
        "SELECT a.created_at, m.conversation_id, a.message_id, a.tier, a.model, a.location, a.destination, "
        "COALESCE(a.policy, ''), 'recorded before Hearth kept the basis', a.payload_sha256, a.redacted, a.cost, "
        "COALESCE(a.error, 'answered') FROM attempts a JOIN messages m ON m.id = a.message_id "
        "WHERE a.payload_sha256 IS NOT NULL AND a.imported = 0 ORDER BY a.id"
    )
    db["approvals"].create(
        {"conversation_id": int, "model": str, "address": str, "location": str, "created_at": str},
        pk=("conversation_id", "model", "address"),
        not_null={"location", "created_at"},
    )
    db["rests"].create({"model": str, "until": float}, pk="model", not_null={"until"})


def m012_document_sources(db: Database) -> None:
    """Answers drawn from the user's documents: the sources they cite, and in the audit, which
    collections and chunks went with each request."""
    db["messages"].add_column("sources", str)
    db["outbound"].add_column("documents", str)


def m013_plan_steps(db: Database) -> None:
    """An attempt may be a step of a plan (the planner, one part, the synthesis): JSON text saying which."""
    db["attempts"].add_column("step", str)


def m014_verdicts(db: Database) -> None:
    """The user's verdicts on answers, as labels for each model's confidence (app/core/conversation/learning)."""
    db["verdicts"].create(
        {
            "attempt_id": int,
            "message_id": int,
            "model": str,
            "verdict": str,
            "correct": int,
            "signals": str,
            "created_at": str,
        },
        pk="attempt_id",
        not_null={"message_id", "model", "verdict", "correct", "signals", "created_at"},
    )
    db["verdicts"].create_index(["model"])
    db["verdicts"].create_index(["message_id"])


def m015_outbound_via(db: Database) -> None:
    """Requests made for a program through Hearth's local API say so in the audit."""
    db["outbound"].add_column("via", str)


def m016_api_conversations(db: Database) -> None:
    """A conversation asked through the local API names the program that asked, and the fingerprint of its
    turns by which that program's next request continues it."""
    db["conversations"].add_column("api_client", str)
    db["conversations"].add_column("api_turns", str)
    db["conversations"].create_index(["api_turns"])


def m017_question_collections(db: Database) -> None:
    """A question asked over document collections names them, so that answering it again (Regenerate,
    Ask a stronger model, Compare) reads the same collections."""
    db["messages"].add_column("collections", str)


MIGRATIONS: list[Callable[[Database], None]] = [
    m001_conversations_messages_attempts,
    m002_answer_warnings_and_routing_events,
    m003_costs_routes_and_attachments,
    m004_arms_feedback_and_shadow_runs,
    m005_audit_trail,
    m006_search_pins_and_branches,
    m007_summaries,
    m008_attempt_provider,
    m009_threads,
    m010_imported_attempts,
    m011_outbound_gate,
    m012_document_sources,
    m013_plan_steps,
    m014_verdicts,
    m015_outbound_via,
    m016_api_conversations,
    m017_question_collections,
]


# Stamped into the database header (PRAGMA user_version) once every migration above is applied, so
# that opening a database this Hearth has already migrated reads one number, not the migrations
# table: from the names, so a list that changes (a merge renumbering two new migrations) is noticed.
SCHEMA_STAMP = zlib.crc32("\n".join(m.__name__ for m in MIGRATIONS).encode()) & 0x7FFFFFFF


def schema_is_current(db: Database) -> bool:
    """Whether every migration of this Hearth is known to be applied to ``db``."""
    return db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_STAMP


def migrate(db: Database) -> list[str]:
    """Apply the migrations not yet recorded; return the names applied."""
    db["_migrations"].create({"name": str, "applied_at": str}, pk="name", if_not_exists=True)
    done = {row["name"] for row in db["_migrations"].rows}
    applied = []
    for migration in MIGRATIONS:
        name = migration.__name__
        if name in done:
            continue
        with db.atomic():
            if db["_migrations"].count_where("name = ?", [name]):
                continue  # another copy of Hearth, starting at the same moment, applied it first
            migration(db)
            db["_migrations"].insert({"name": name, "applied_at": datetime.now(UTC).isoformat()})
        applied.append(name)
    db.execute(f"PRAGMA user_version = {SCHEMA_STAMP}")
    return applied
