"""Find servers on this computer: ask the usual loopback ports for an OpenAI-style model list, when asked.

Only 127.0.0.1 is asked, so nothing leaves this computer; nothing is asked until the user
clicks "Find servers on this computer" (or runs ``hearth providers find``).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from app.core.config.presets import Preset, preset, presets

PROBE_TIMEOUT_S = 1.5


class _Entry(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str


class _List(BaseModel):
    model_config = ConfigDict(extra="ignore")
    data: list[_Entry]


@dataclass(frozen=True)
class FoundServer:
    preset: Preset  # the kind of server that usually listens on that port
    base_url: str
    models: list[str]


def usual_ports() -> list[int]:
    return [p.port for p in presets() if p.port is not None]


def _kind(port: int) -> Preset:
    return next((p for p in presets() if p.port == port), preset("openai-compatible"))


def _probe(client: httpx.Client, port: int) -> FoundServer | None:
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        response = client.get(f"{base_url}/models", timeout=PROBE_TIMEOUT_S)
        listed = _List.model_validate_json(response.content[: 1 << 20]) if response.status_code == 200 else None
    except (httpx.HTTPError, ValidationError):
        return None
    return FoundServer(_kind(port), base_url, [m.id for m in listed.data]) if listed else None


def find_servers(ports: Sequence[int] | None = None) -> list[FoundServer]:
    """The servers answering on ``ports`` (default: Ollama's, LM Studio's, llama-server's, vLLM's)."""
    wanted = list(ports) if ports is not None else usual_ports()
    with httpx.Client(trust_env=False) as client, ThreadPoolExecutor(max_workers=max(1, len(wanted))) as pool:
        found = list(pool.map(lambda port: _probe(client, port), wanted))
    return [server for server in found if server is not None]
