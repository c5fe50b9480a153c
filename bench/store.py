"""The history database at scale: search, opening a conversation, and saving a streamed answer.

    .venv/bin/python -m bench.store [--messages 100000] [--conversations 2000]

Builds a database of generated conversations (lengths skewed like real use:
most short, some with hundreds of messages), then measures with the same
Store the app uses:

- full-text search for one or two words (p50/p95 over 300 queries);
- opening a conversation: its last 200 messages (p50/p95 over 300 opens, the
  longest conversations included);
- saving a streamed answer: ChatService saves at most once a second while
  tokens arrive; the share of the generating thread's time spent saving is
  measured on a 10-second stream at 100 tokens per second;
- the check the window runs before it opens the database (app/core/storage/recovery.py:
  ``PRAGMA quick_check`` of the whole file, warm cache) against the bare pragma,
  and a checked backup (copy + ``PRAGMA integrity_check`` of the copy).

Targets: search p95 <= 30 ms, open p95 <= 20 ms, saving < 1 % of the thread.
JSON goes to bench/results/store.json.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from app.core.answers import AttemptStarted, TextDelta
from app.core.conversation.recording import SAVE_EVERY_S
from app.core.storage import backups, recovery
from app.core.storage.store import Store
from bench.report import RESULTS, write_report

WORDS = (
    "time year people way day man thing woman life child world school state family student group country "
    "problem hand part place case week company system program question work government number night point "
    "home water room mother area money story fact month lot right study book eye job word business issue "
    "side kind head house service friend father power hour game line end member law car city community name "
    "president team minute idea kid body information back parent face others level office door health person "
    "art war history party result change morning reason research girl guy moment air teacher force education "
    "volcano lighthouse recipe garden bicycle piano mountain river ocean planet museum library train coffee"
).split()


def vocabulary(rng: random.Random, size: int = 20_000) -> tuple[list[str], list[float]]:
    """Common words plus made-up rarer ones, with Zipf frequencies like real text."""
    syllables = ["ka", "lo", "mi", "ra", "te", "vu", "sen", "dor", "pli", "qua", "ber", "nix", "tal", "o", "e"]
    made_up = {"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(size * 2)}
    words = WORDS + sorted(made_up - set(WORDS))[: size - len(WORDS)]
    cumulative, total = [], 0.0
    for rank in range(len(words)):
        total += 1.0 / (rank + 1)
        cumulative.append(total)
    return words, cumulative


def sentence(rng: random.Random, words: int, vocab: tuple[list[str], list[float]]) -> str:
    return " ".join(rng.choices(vocab[0], cum_weights=vocab[1], k=words)).capitalize() + "."


def build(path: Path, messages: int, conversations: int, rng: random.Random, vocab) -> list[int]:
    store = Store(path)
    weights = [rng.paretovariate(1.2) for _ in range(conversations)]
    scale = messages / sum(weights)
    lengths = [max(2, int(w * scale)) for w in weights]
    lengths[0] += messages - sum(lengths)
    now = "2026-11-01T10:00:00.000+00:00"
    with store.db.atomic():
        store.db["conversations"].insert_all(
            {"id": i + 1, "title": sentence(rng, 4, vocab), "created_at": now, "updated_at": now}
            for i in range(conversations)
        )
        rows = (
            {
                "conversation_id": c + 1,
                "role": "user" if j % 2 == 0 else "assistant",
                "content": sentence(rng, rng.randint(6, 60), vocab),
                "status": "complete",
                "created_at": now,
            }
            for c, length in enumerate(lengths)
            for j in range(max(0, length))
        )
        store.db["messages"].insert_all(rows, batch_size=2000)
        # Each message follows the previous one, as when typed in the app.
        store.db.execute(
            "UPDATE messages SET after_id = (SELECT MAX(p.id) FROM messages p "
            "WHERE p.conversation_id = messages.conversation_id AND p.id < messages.id)"
        )
        store.db.execute(
            "UPDATE conversations SET leaf_id = (SELECT MAX(id) FROM messages WHERE conversation_id = conversations.id)"
        )
    store.close()
    return lengths


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": statistics.median(ordered),
        "p95_ms": ordered[int(0.95 * (len(ordered) - 1))],
        "max_ms": ordered[-1],
    }


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def save_cost(path: Path, seconds: float, tokens_per_second: float) -> dict[str, float]:
    """Run the app's streaming-save loop on a paced synthetic stream; time spent inside the saves."""
    from app.core.config.schema import Config
    from app.core.conversation.chat import ChatService

    store = Store(path)
    conversation = store.create_conversation("stream")
    answer_id = store.add_message(conversation, "assistant", "", status="incomplete")
    spent: list[float] = []
    real_update = store.update_message

    def measured_update(*args, **kwargs) -> None:
        started = time.perf_counter()
        real_update(*args, **kwargs)
        spent.append(time.perf_counter() - started)

    store.update_message = measured_update  # type: ignore[method-assign]
    config = Config.model_validate(
        {"tiers": [{"name": "local", "models": ["m"]}], "models": {"m": {"provider": "llama-cpp", "file": "m.gguf"}}}
    )
    chat = ChatService(config, registry=None, store=lambda: store)  # type: ignore[arg-type]
    interval = 1.0 / tokens_per_second

    def events():
        yield AttemptStarted(0, "local", "m", "m")
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            time.sleep(interval)
            yield TextDelta(0, " word")

    started = time.perf_counter()
    for _ in chat.recorder.save_while_streaming(store, answer_id, events(), trigger="auto"):
        pass
    total = time.perf_counter() - started
    store.close()
    return {
        "stream_s": total,
        "saves": len(spent),
        "save_ms_each": 1000 * statistics.mean(spent),
        "share_of_thread": sum(spent) / total,
        "save_every_s": SAVE_EVERY_S,
    }


def check_costs(path: Path, folder: Path) -> dict[str, float]:
    """What checking costs: the start-up check against the bare pragma, and one checked backup."""

    def bare() -> None:
        with sqlite3.connect(path) as db:
            db.execute("PRAGMA quick_check").fetchall()

    at_start = [timed(lambda: recovery.diagnose(path, folder)) for _ in range(5)]
    pragma = [timed(bare) for _ in range(5)]
    return {
        "start_check_ms": statistics.median(at_start),
        "bare_quick_check_ms": statistics.median(pragma),
        "checked_backup_ms": timed(lambda: backups.backup(path, folder / "backups", keep=1)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--conversations", type=int, default=2_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--out", type=Path, default=RESULTS / "store.json")
    args = parser.parse_args(argv)
    rng = random.Random(2026)
    folder = Path(tempfile.mkdtemp(prefix="hearth-store-bench-"))
    path = folder / "hearth.db"
    started = time.perf_counter()
    vocab = vocabulary(rng)
    lengths = build(path, args.messages, args.conversations, rng, vocab)
    build_s = time.perf_counter() - started

    store = Store(path)
    # What people search for: one or two words of any frequency, common ones included.
    queries = [" ".join(rng.choices(vocab[0][:2000], k=rng.choice([1, 2]))) for _ in range(args.queries)]
    searches = [timed(lambda q=q: store.search(q, limit=50)) for q in queries]
    longest = sorted(range(len(lengths)), key=lambda i: -lengths[i])[:20]
    picks = [rng.randrange(len(lengths)) + 1 for _ in range(args.queries - len(longest))] + [i + 1 for i in longest]
    opens = [timed(lambda c=c: store.recent_messages(c, 200)) for c in picks]
    shown = store.recent_messages(longest[0] + 1, 200)
    assert len(shown) == 200 and shown[-1].id > shown[0].id, "opening read the wrong messages"
    store.close()
    saving = save_cost(path, seconds=10.0, tokens_per_second=100.0)
    checks = check_costs(path, folder)

    report = {
        "benchmark": "store",
        "messages": args.messages,
        "conversations": args.conversations,
        "longest_conversation": max(lengths),
        "build_s": build_s,
        "database_mb": path.stat().st_size / 1e6,
        "search": {**percentiles(searches), "target_p95_ms": 30.0},
        "open_last_200": {**percentiles(opens), "target_p95_ms": 20.0},
        "streaming_save": {**saving, "target_share": 0.01},
        "checks": checks,
    }
    report["targets_met"] = {
        "search": report["search"]["p95_ms"] <= 30.0,
        "open": report["open_last_200"]["p95_ms"] <= 20.0,
        "streaming_save": saving["share_of_thread"] < 0.01,
    }
    write_report(report, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
