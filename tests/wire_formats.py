"""Response streams and error bodies in each service's documented wire format.

Built from the providers' API references (OpenAI chat completions streaming,
Anthropic Messages streaming events, Gemini streamGenerateContent with
alt=sse), so the providers are tested against what the services send.
"""

from __future__ import annotations

import json


def sse(*events: tuple[str | None, object]) -> str:
    out = []
    for name, data in events:
        if name:
            out.append(f"event: {name}")
        out.append("data: " + (data if isinstance(data, str) else json.dumps(data)))
        out.append("")
    return "\n".join(out) + "\n"


def openai_stream(words: list[str], finish: str | None = "stop", done: bool = True) -> str:
    events: list[tuple[str | None, object]] = [(None, {"choices": [{"index": 0, "delta": {"role": "assistant"}}]})]
    for word in words:
        events.append(
            (
                None,
                {
                    "choices": [
                        {
                            "index": 0,
                            "delta": {"content": word},
                            "logprobs": {
                                "content": [
                                    {
                                        "token": word,
                                        "logprob": -0.1,
                                        "top_logprobs": [
                                            {"token": word, "logprob": -0.1},
                                            {"token": "x", "logprob": -2.5},
                                        ],
                                    }
                                ]
                            },
                            "finish_reason": None,
                        }
                    ]
                },
            )
        )
    if finish:
        events.append((None, {"choices": [{"index": 0, "delta": {}, "finish_reason": finish}]}))
        events.append((None, {"choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": len(words)}}))
    if done:
        events.append((None, "[DONE]"))
    return sse(*events)


def anthropic_stream(words: list[str], stop: str | None = "end_turn") -> str:
    events: list[tuple[str | None, object]] = [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": "msg_01",
                    "type": "message",
                    "role": "assistant",
                    "content": [],
                    "model": "claude-sonnet-4-5",
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": 12, "output_tokens": 1},
                },
            },
        ),
        (
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        ),
        ("ping", {"type": "ping"}),
    ]
    for word in words:
        events.append(
            (
                "content_block_delta",
                {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": word}},
            )
        )
    if stop:
        events += [
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": stop, "stop_sequence": None},
                    "usage": {"output_tokens": len(words)},
                },
            ),
            ("message_stop", {"type": "message_stop"}),
        ]
    return sse(*events)


def gemini_stream(words: list[str], finish: str | None = "STOP") -> str:
    events: list[tuple[str | None, object]] = []
    for i, word in enumerate(words):
        candidate: dict[str, object] = {
            "content": {"parts": [{"text": word}], "role": "model"},
            "index": 0,
            "logprobsResult": {
                "topCandidates": [
                    {"candidates": [{"token": word, "logProbability": -0.1}, {"token": "x", "logProbability": -2.5}]}
                ],
                "chosenCandidates": [{"token": word, "logProbability": -0.1}],
            },
        }
        if finish and i == len(words) - 1:
            candidate["finishReason"] = finish
        event: dict[str, object] = {"candidates": [candidate], "modelVersion": "gemini-2.5-flash"}
        if finish and i == len(words) - 1:
            event["usageMetadata"] = {
                "promptTokenCount": 12,
                "candidatesTokenCount": len(words),
                "totalTokenCount": 12 + len(words),
            }
        events.append((None, event))
    return sse(*events)


ERROR_BODIES = {
    "openai-compatible": lambda kind, message: {"error": {"message": message, "type": kind, "code": None}},
    "anthropic": lambda kind, message: {"type": "error", "error": {"type": kind, "message": message}},
    "gemini": lambda kind, message: {"error": {"code": 400, "message": message, "status": kind.upper()}},
}

STREAMS = {"openai-compatible": openai_stream, "anthropic": anthropic_stream, "gemini": gemini_stream}
LENGTH_STOP = {"openai-compatible": "length", "anthropic": "max_tokens", "gemini": "MAX_TOKENS"}
REFUSAL_STOP = {"openai-compatible": "content_filter", "anthropic": "refusal", "gemini": "SAFETY"}


# Model lists, as each service documents its "list models" endpoint.
def openai_model_list(ids: list[str]) -> dict:
    """GET /v1/models (OpenAI; DeepSeek, Groq, Mistral, xAI, Together and the local servers answer alike)."""
    return {
        "object": "list",
        "data": [{"id": i, "object": "model", "created": 1715367049, "owned_by": "system"} for i in ids],
    }


def openrouter_model_list(entries: dict[str, tuple[str, str]]) -> dict:
    """GET /api/v1/models (OpenRouter): each model with its context and its USD price per token."""
    return {
        "data": [
            {"id": i, "name": i, "context_length": 128000, "pricing": {"prompt": p, "completion": c}}
            for i, (p, c) in entries.items()
        ]
    }


def anthropic_model_page(ids: list[str], has_more: bool) -> dict:
    """GET /v1/models (Anthropic): one page, newest first, with ``has_more`` and ``last_id`` for the next."""
    return {
        "data": [{"type": "model", "id": i, "display_name": i, "created_at": "2025-09-29T00:00:00Z"} for i in ids],
        "has_more": has_more,
        "first_id": ids[0] if ids else None,
        "last_id": ids[-1] if ids else None,
    }


def gemini_model_page(entries: dict[str, list[str]], next_token: str | None) -> dict:
    """GET /v1beta/models (Gemini): names are "models/…", each with its generation methods."""
    page: dict = {
        "models": [
            {
                "name": f"models/{name}",
                "displayName": name,
                "inputTokenLimit": 1048576,
                "outputTokenLimit": 65536,
                "supportedGenerationMethods": methods,
            }
            for name, methods in entries.items()
        ]
    }
    if next_token:
        page["nextPageToken"] = next_token
    return page
