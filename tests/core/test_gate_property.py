"""Whatever the tiers, the policy, the failures and the answers: nothing leaves without the gate.

Hypothesis generates tier layouts mixing local, self-hosted and cloud models; every
policy; per destination a failure pattern (answers, refused, 5xx, timeout, cut
stream), whether it has the API key it needs, its price, and the user's answer when
asked about it; a per-message budget; one or two messages of one conversation, the
second sometimes a re-ask starting higher up. Local models are scripted; every remote
destination is a real OpenAI-compatible server on 127.0.0.1 that records each
connection (a refused one is a port nobody listens on). The messages carry an e-mail
address, so redaction is on the path too.

For every case: each connection was allowed by the policy in force and, where the
policy asks, by a consent that named that destination (its model, its address, its
location) for that very payload or, "always", for this conversation; nothing was asked
about a destination without its key or one the policy forbids; the audit trail matches
the connections one to one, payload for payload; under local-only there are none.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from app.core.confidence.calibration import Scorer
from app.core.config.schema import Config, Location, Privacy
from app.core.errors import GateClosed
from app.core.privacy.gate import ConsentRequest, Decision, OutboundGate
from app.core.privacy.outbound import payload_fingerprint
from app.core.privacy.policy import Allowance, allowance
from app.core.providers.base import Message, Provider
from app.core.providers.openai_compat import OpenAICompatibleProvider
from app.core.providers.pricing import Pricing
from app.core.routing.cascade import Cascade, TierPlan
from app.core.routing.retry import Cooldowns, RetryPolicy
from app.core.storage.outbound_records import OutboundRecords, OutboundRow
from app.core.storage.store import Store
from tests.conftest import free_port
from tests.destinations import BEHAVIOURS, RecordingServer
from tests.fakes import ScriptedProvider

CASES = 2000
SERVERS = 9  # at most 3 tiers above the local one, 3 models each
READ_TIMEOUT_S = 0.15
EMAIL = "ann.lee@example.com"
REFUSED = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there


@dataclass(frozen=True)
class Remote:
    location: Location
    behaviour: str  # one of BEHAVIOURS, or "refused"
    key: str  # "none" (needs no key), "present" or "missing"
    price: float  # USD per million tokens, in and out
    answer: Decision  # what the user says when asked about it


@dataclass(frozen=True)
class Local:
    confidence: float


remotes = st.builds(
    Remote,
    st.sampled_from([Location.SELF_HOSTED, Location.CLOUD]),
    st.sampled_from([*BEHAVIOURS, "refused"]),
    st.sampled_from(["none", "present", "missing"]),
    st.sampled_from([0.0, 1.0, 30.0]),
    st.sampled_from(list(Decision)),
)
models = st.one_of(st.builds(Local, st.sampled_from([0.1, 0.9])), remotes, remotes)
layouts = st.lists(st.lists(models, min_size=1, max_size=3), min_size=1, max_size=3)


@dataclass(frozen=True)
class Case:
    tiers: list[list[Local | Remote]]  # above the first, local tier
    policy: Privacy
    budget: float | None
    second: int | None  # where a second message starts (a re-ask starts above the first tier); None: no second


cases = st.builds(
    Case,
    layouts,
    st.sampled_from(list(Privacy)),
    st.sampled_from([None, None, 0.0002]),
    st.sampled_from([None, 0, 1]),
)


@dataclass
class Asked:
    request: ConsentRequest
    decision: Decision
    message_id: int
    rows_before: int  # audit rows written before the question: what came after it may rely on it
    policy: Privacy


@dataclass
class World:
    """One case built from real parts: providers, a configuration to price them, servers to reach."""

    case: Case
    store: Store
    servers: list[RecordingServer]
    client: httpx.Client
    tiers: list[TierPlan] = field(default_factory=list)
    remote: dict[str, Remote] = field(default_factory=dict)
    address: dict[str, str] = field(default_factory=dict)
    server_of: dict[str, RecordingServer] = field(default_factory=dict)
    config: Config | None = None

    def build(self) -> None:
        pool = iter(self.servers)
        config: dict = {"settings": {"max_answer_tokens": 16}, "tiers": [], "models": {}}
        config["models"]["local-0"] = {"provider": "llama-cpp", "file": "m.gguf"}
        config["tiers"].append({"name": "tier-0", "models": ["local-0"]})
        for number, layout in enumerate(self.case.tiers, start=1):
            names = []
            for position, model in enumerate(layout):
                name = f"m{number}{position}"
                names.append(name)
                if isinstance(model, Local):
                    config["models"][name] = {"provider": "llama-cpp", "file": "m.gguf"}
                    continue
                if model.behaviour == "refused":
                    url = REFUSED
                else:
                    server = next(pool)
                    server.reset(model.behaviour)
                    url, self.server_of[name] = server.url, server
                self.remote[name], self.address[name] = model, url
                config["models"][name] = {
                    "provider": "openai-compatible",
                    "location": model.location.value,
                    "base_url": url,
                    "model": name,
                    "price_in": model.price,
                    "price_out": model.price,
                    "read_timeout": READ_TIMEOUT_S,
                    "connect_timeout": 1.0,
                    **({} if model.key == "none" else {"key": f"key-{name}"}),
                }
            config["tiers"].append({"name": f"tier-{number}", "models": names})
        self.config = Config.model_validate(config)
        self.tiers = [TierPlan(t.name, [self._provider(m) for m in t.models]) for t in self.config.tiers]

    def _provider(self, name: str) -> Provider:
        if name == "local-0":
            return ScriptedProvider(name, "Lima, I think.", 0.2)
        model = self.remote.get(name)
        if model is None:
            layout = self.case.tiers[int(name[1]) - 1][int(name[2])]
            assert isinstance(layout, Local)
            return ScriptedProvider(name, "Lima.", layout.confidence)
        assert self.config is not None
        settings = self.config.models[name]
        return OpenAICompatibleProvider(
            name,
            settings,  # type: ignore[arg-type]
            self.client,
            api_key="sk-test" if model.key == "present" else None,
            missing_key=f"there is no API key 'key-{name}'" if model.key == "missing" else None,
        )


@pytest.fixture(scope="module")
def pool() -> Iterator[list[RecordingServer]]:
    started = [RecordingServer() for _ in range(SERVERS)]
    yield started
    for server in started:
        server.close()


@pytest.fixture(scope="module")
def world_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = Store(tmp_path_factory.mktemp("gate") / "hearth.db")
    yield store
    store.close()


def run_case(world: World) -> tuple[list[Asked], list[OutboundRow]]:
    store, case = world.store, world.case
    conversation = store.create_conversation("case")
    asked: list[Asked] = []
    message_id = 0

    def consent(request: ConsentRequest) -> Decision:
        decision = world.remote[request.model_id].answer
        rows = store.db.execute("SELECT COUNT(*) FROM outbound WHERE conversation_id = ?", [conversation])
        asked.append(Asked(request, decision, message_id, rows.fetchone()[0], current))
        return decision

    assert world.config is not None
    gate = OutboundGate(consent, pricing=Pricing(world.config), message_budget=case.budget, redact=True)
    cooldowns = Cooldowns()
    starts = [0] + ([] if case.second is None else [min(case.second, len(world.tiers) - 1)])
    for number, start in enumerate(starts):
        question = store.add_message(conversation, "user", f"Mail {EMAIL}: what is the capital of Peru? ({number})")
        message_id = store.add_message(conversation, "assistant", "", status="incomplete")
        own = store.conversation(conversation).privacy
        current = Privacy(own) if own else case.policy
        passage = gate.passage(store, current, conversation_id=conversation, message_id=message_id)
        cascade = Cascade(
            world.tiers,
            scorer=Scorer(0.5),
            passage=passage,
            max_answer_tokens=16,
            retry=RetryPolicy(tries=2, base_s=0.0),
            cooldowns=cooldowns,
            sleep=lambda _: None,
        )
        messages = [Message("system", "Be brief."), Message("user", store.message(question).content)]
        try:
            for _ in cascade.run(lambda _, sent=messages: sent, start_at=start):
                pass
        except GateClosed:
            event("a re-ask with nowhere it could go")
    for server in world.server_of.values():
        server.settle()
    rows = [r for r in OutboundRecords(store).audit() if r.conversation_id == conversation]
    return asked, sorted(rows, key=lambda r: r.id)


def violations(world: World, asked: list[Asked], rows: list[OutboundRow]) -> list[str]:
    case, found = world.case, []
    if case.policy is Privacy.LOCAL_ONLY and (rows or asked or any(s.connections for s in world.server_of.values())):
        found.append("something left under local-only")
    for name, model in world.remote.items():
        mine = [r for r in rows if r.model == name]
        server = world.server_of.get(name)
        if server is not None and server.connections != len(mine):
            found.append(f"{name}: {server.connections} connections, {len(mine)} audit rows")
        if server is not None:
            sent = [
                payload_fingerprint([Message(m["role"], m["content"]) for m in b["messages"]]) for b in server.bodies
            ]
            if sent != [r.payload_sha256 for r in mine]:
                found.append(f"{name}: what arrived is not what the audit says was sent")
            if any(EMAIL in str(b) for b in server.bodies):
                found.append(f"{name} received the e-mail address unredacted")
        if server is None and any("could not connect" not in (r.outcome or "") for r in mine):
            found.append(f"{name}: a refused destination is audited as reached")
        if model.key == "missing" and (mine or any(a.request.model_id == name for a in asked)):
            found.append(f"{name} has no key, yet was asked about or sent to")
        for row in mine:
            found += _row_violations(world, name, model, row, rows.index(row), asked)
    for question in asked:
        request = question.request
        model = world.remote[request.model_id]
        if allowance(question.policy, request.location) is not Allowance.ASK:
            found.append(f"asked about {request.model_id} though '{question.policy}' does not ask for it")
        if (request.address, request.location) != (world.address[request.model_id], model.location):
            found.append(f"the question about {request.model_id} named another address or location")
        if EMAIL in " ".join(m.content for m in request.messages):
            found.append("the question showed a payload that was not redacted")
        if (request.estimated_cost > 0) != (model.price > 0):
            found.append(f"the question about {request.model_id} misstated its cost")
    return found


def _row_violations(
    world: World, name: str, model: Remote, row: OutboundRow, ordinal: int, asked: list[Asked]
) -> list[str]:
    """``ordinal``: how many of the case's audit rows came before this one."""
    found = []
    policy = Privacy(row.policy)
    if row.location != model.location.value or row.address != world.address[name]:
        found.append(f"{name}: the audit names another location or address")
    if allowance(world.case.policy, model.location) is Allowance.FORBIDDEN:
        found.append(f"{name} ({model.location}) was sent to under '{world.case.policy}'")
    earlier = [a for a in asked if a.rows_before <= ordinal]  # the questions asked before it was sent
    if any(a.decision is Decision.NEVER and a.request.location is model.location for a in earlier):
        found.append(f"{name} was sent to after 'never' for {model.location} models")
    if allowance(policy, model.location) is Allowance.ASK:
        approved = [
            a
            for a in earlier
            if a.request.model_id == name
            and a.request.address == row.address
            and (
                a.decision is Decision.ALWAYS
                or (
                    a.decision is Decision.ONCE
                    and a.message_id == row.message_id
                    and payload_fingerprint(list(a.request.messages)) == row.payload_sha256
                )
            )
        ]
        if not approved:
            found.append(f"{name} was sent to without a consent that named it")
    if world.case.budget is not None and (row.estimated_cost or 0.0) > world.case.budget:
        found.append(f"{name} was sent to over the per-message budget")
    return found


@pytest.mark.timeout(1800)  # 2,000 cases over real sockets: minutes on a busy machine
def test_nothing_leaves_without_the_gate(pool: list[RecordingServer], world_store: Store):
    seen = {"cases": 0, "connections": 0, "questions": 0, "violations": 0}

    @settings(max_examples=CASES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(case=cases)
    def property_holds(case: Case) -> None:
        world = World(case, world_store, pool, client)
        world.build()
        asked, rows = run_case(world)
        problems = violations(world, asked, rows)
        seen["cases"] += 1
        seen["connections"] += sum(server.connections for server in world.server_of.values())
        seen["questions"] += len(asked)
        seen["violations"] += len(problems)
        event(f"policy {case.policy.value}")
        event("something was sent" if rows else "nothing was sent")
        assert problems == [], problems

    with httpx.Client() as client:
        property_holds()
    print(
        f"\ngate property: {seen['cases']} cases, {seen['connections']} connections, "
        f"{seen['questions']} consent questions, {seen['violations']} violations"
    )
    assert seen["cases"] >= CASES and seen["violations"] == 0
    assert seen["connections"] > CASES // 4 and seen["questions"] > CASES // 20, "the cases must reach the sockets"


def test_the_refused_destination_really_refuses():
    host, port = REFUSED.removeprefix("http://").removesuffix("/v1").split(":")
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError):
        sock.connect((host, int(port)))
