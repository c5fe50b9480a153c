"""What happened: hearth stats and hearth audit."""

from __future__ import annotations

import argparse
import json

from app.cli.terminal import json_text
from app.core.evaluation import stats
from app.core.evaluation.ways import WAYS, describe_way
from app.core.paths import user_paths
from app.core.session import session_and_store
from app.core.storage.outbound_records import OutboundRecords
from app.core.storage.store import Store


def cmd_stats(args: argparse.Namespace) -> int:
    with session_and_store() as (session, store):
        report = stats.compute(store, session.config)
    if args.json:
        print(json_text(report.as_json(), indent=2))
        return 0
    print(
        f"{'model':<20} {'answers':>7} {'escal.':>6} {'👍':>3} {'👎':>3} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'tokens in/out':>15} {'cost $':>9} {'saved $':>9}"
    )
    for name, row in report.models.items():
        latency = row.latency_ms
        print(
            f"{name:<20} {row.answers:>7} {row.escalated_to:>6} {row.thumbs_up:>3} "
            f"{row.thumbs_down:>3} {_ms(latency.p50):>8} {_ms(latency.p95):>8} "
            f"{row.tokens_in:>7}/{row.tokens_out:<7} {row.cost:>9.4f} "
            f"{row.cost_saved or 0.0:>9.4f}"
        )
    for arm, values in report.arms.items():
        rate = "n/a" if values.escalation_rate is None else f"{values.escalation_rate:.0%}"
        print(
            f"arm {arm}: {values.answers} answers, escalation rate {rate}, {values.routing_misses} routing misses, "
            f"👍 {values.thumbs_up} 👎 {values.thumbs_down}, cost ${values.cost:.4f}"
        )
    for name in WAYS:
        if (way := report.ways.get(name)) is not None:
            print(f"{name}: {describe_way(way)}")
    for challenger, shadow in report.shadow.items():
        agreement = "n/a" if shadow.agreement is None else f"{shadow.agreement:.2f}"
        print(
            f"shadow {challenger}: {shadow.runs} runs ({shadow.failed} failed), agreement {agreement}, "
            f"p50 {_ms(shadow.challenger_latency_ms.p50)} ms vs {_ms(shadow.champion_latency_ms.p50)} ms, "
            f"cost ${shadow.challenger_cost:.4f}"
        )
    spending = report.spending
    budget = spending.monthly_budget
    print(
        f"spent this month ${spending.this_month:.4f}"
        + (f" of ${budget:.2f}" if budget is not None else "")
        + f", in all ${spending.total:.4f}"
    )
    for conversation in spending.by_conversation[:5]:
        print(f"  ${conversation.cost:.4f}  {conversation.title} (conversation {conversation.id})")
    if report.unreadable_attempts:
        print(
            f"{report.unreadable_attempts} attempts could not be read (stored with values Hearth cannot use) "
            "and are not counted."
        )
    if report.cost_saved_reference is None:
        print("Money saved is counted against the priciest configured cloud model; none has prices yet.")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    store = Store(user_paths().database)
    try:
        rows = OutboundRecords(store).audit()
    finally:
        store.close()
    if args.json:
        print(
            json_text(
                [
                    {
                        "when": r.created_at,
                        "tier": r.purpose,
                        "model": r.model,
                        "location": r.location,
                        "destination": r.destination,
                        "address": r.address,
                        "policy": r.policy,
                        "basis": r.basis,
                        "payload_sha256": r.payload_sha256,
                        "redacted": json.loads(r.redacted or "{}"),
                        "estimated_cost": r.estimated_cost,
                        "cost": r.cost,
                        "outcome": r.outcome,
                        "conversation_id": r.conversation_id,
                        "message_id": r.message_id,
                        "via": r.via,
                    }
                    for r in rows
                ],
                indent=2,
            )
        )
        return 0
    if not rows:
        print("Nothing has left this computer.")
    for r in rows:
        hidden = ", ".join(f"{n} {k.lower()}" for k, n in json.loads(r.redacted or "{}").items()) or "nothing"
        print(
            f"{r.created_at[:19].replace('T', ' ')}  {r.purpose}: {r.model} ({r.location}) → {r.destination}  "
            f"{'via ' + r.via + '  ' if r.via else ''}"
            f"policy {r.policy}, {r.basis}  ${r.cost or 0.0:.4f}  sha256 {r.payload_sha256[:16]}…  "
            f"redacted: {hidden}  {r.outcome or 'on its way'}"
        )
    return 0


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"
