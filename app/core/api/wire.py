"""The OpenAI chat-completions wire format: requests read into pydantic models, answers written back.

Parameters Hearth has no use for (``presence_penalty``, ``user``, …) are ignored, as
OpenAI-compatible servers do; ones it cannot honour (``n`` > 1, tools) are refused with
a message saying so. Images are accepted as ``data:`` URLs only: Hearth never fetches a
URL a request names.
"""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from app.core.config.schema import Privacy
from app.core.errors import InvalidInput
from app.core.providers.base import Message, Role


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class TextPart(_Loose):
    type: Literal["text"]
    text: str


class ImageURL(_Loose):
    url: str

    @field_validator("url")
    @classmethod
    def _inline(cls, url: str) -> str:
        if not url.startswith("data:image/"):
            raise ValueError("images must be sent inline, as data:image/... URLs (Hearth fetches no URL)")
        return url


class ImagePart(_Loose):
    type: Literal["image_url"]
    image_url: ImageURL


Part = Annotated[TextPart | ImagePart, Field(discriminator="type")]


class WireMessage(_Loose):
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[Part] | None = None

    def message(self) -> Message:
        role: Role = "system" if self.role == "developer" else self.role
        if isinstance(self.content, list):
            text = "\n".join(part.text for part in self.content if isinstance(part, TextPart))
            images = tuple(part.image_url.url for part in self.content if isinstance(part, ImagePart))
            return Message(role, text, images)
        return Message(role, self.content or "")


class StreamOptions(_Loose):
    include_usage: bool = False


class HearthOptions(BaseModel):
    """Hearth's own request field: a caller may narrow the user's privacy policy, never widen it."""

    model_config = ConfigDict(extra="forbid")
    privacy: Privacy | None = None


class ChatRequest(_Loose):
    model: str
    messages: list[WireMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    seed: int | None = None
    stop: str | list[str] | None = None
    logprobs: bool = False
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    n: Literal[1] = 1
    tools: list[Any] | None = None
    hearth: HearthOptions | None = None

    @field_validator("tools")
    @classmethod
    def _no_tools(cls, tools: list[Any] | None) -> None:
        if tools:
            raise ValueError("Hearth runs no tools; send the request without them")
        return None

    @field_validator("stop")
    @classmethod
    def _few_stops(cls, stop: str | list[str] | None) -> str | list[str] | None:
        if isinstance(stop, list) and len(stop) > 4:
            raise ValueError("at most 4 stop strings")
        return stop

    @model_validator(mode="after")
    def _alternatives_with_logprobs(self) -> ChatRequest:
        if self.top_logprobs and not self.logprobs:
            raise ValueError("top_logprobs needs logprobs: true")
        return self

    @property
    def alternatives(self) -> int:
        """How many of the likeliest tokens to report at each step."""
        return (self.top_logprobs or 0) if self.logprobs else 0

    @property
    def stops(self) -> tuple[str, ...]:
        if self.stop is None:
            return ()
        return (self.stop,) if isinstance(self.stop, str) else tuple(self.stop)

    @property
    def answer_tokens(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens

    @property
    def include_usage(self) -> bool:
        return self.stream_options is not None and self.stream_options.include_usage


def read_request(body: bytes) -> ChatRequest:
    """The request in ``body``; InvalidInput names the first field that is wrong."""
    try:
        return ChatRequest.model_validate_json(body)
    except ValidationError as exc:
        errors = exc.errors()
        error = max(errors, key=lambda e: len(e["loc"]))  # in a union, the branch that came closest
        where = ".".join(str(part) for part in error["loc"] if not str(part).startswith(("function-", "tagged-")))
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "json_invalid":
            raise InvalidInput(f"The request body is not valid JSON ({error['ctx']['error']}).") from None
        raise InvalidInput(f"{where or 'The request'}: {message}.") from None


def completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def now() -> int:
    return int(time.time())


def token_logprobs(
    text: str,
    logprobs: tuple[float, ...],
    alternatives: tuple[tuple[tuple[str, float], ...], ...] = (),
    count: int = 0,
) -> list[dict[str, Any]]:
    """OpenAI's per-token entries; the text goes with the first of the tokens it came from. Each carries
    up to ``count`` of the likeliest tokens at its step, as the answering model reported them."""
    entries = []
    for position, logprob in enumerate(logprobs):
        token = text if position == 0 else ""
        top = alternatives[position][:count] if position < len(alternatives) else ()
        entries.append(
            {
                "token": token,
                "logprob": logprob,
                "bytes": list(token.encode()),
                "top_logprobs": [{"token": t, "logprob": lp, "bytes": list(t.encode())} for t, lp in top],
            }
        )
    return entries


def usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def chunk(
    ident: str,
    created: int,
    model: str,
    delta: dict[str, Any],
    *,
    finish_reason: str | None = None,
    logprobs: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    choice = {
        "index": 0,
        "delta": delta,
        "logprobs": None if logprobs is None else {"content": logprobs},
        "finish_reason": finish_reason,
    }
    return {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model, "choices": [choice]}


def completion(
    ident: str,
    created: int,
    model: str,
    text: str,
    finish_reason: str,
    used: dict[str, int],
    logprobs: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "id": ident,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "logprobs": None if logprobs is None else {"content": logprobs},
                "finish_reason": finish_reason,
            }
        ],
        "usage": used,
    }


def model_entry(model_id: str, owned_by: str) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": 0, "owned_by": owned_by}


def error_body(message: str, kind: str, code: str | None, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}
