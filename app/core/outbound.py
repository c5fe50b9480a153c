"""What leaves the machine: the redacted payload, its fingerprint, and the restored reply.

A remote tier is wrapped so that every message it receives is redacted
(placeholders shared by all tiers of one answer), the exact payload is
fingerprinted with SHA-256 for the audit trail, and the reply's text has the
real values put back, even when a placeholder arrives split across chunks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import replace

from app.core.providers.base import Chunk, Message, Provider, Sampling
from app.core.redaction import Redaction

LONGEST_PLACEHOLDER = 16  # "[EMAIL_123]" and the like


class StreamRestorer:
    """Puts real values back into streamed text, holding back a placeholder until it is whole."""

    def __init__(self, redaction: Redaction):
        self.redaction = redaction
        self._held = ""

    def feed(self, text: str) -> str:
        text = self._held + text
        self._held = ""
        start = text.rfind("[")
        if start != -1 and "]" not in text[start:] and len(text) - start < LONGEST_PLACEHOLDER:
            text, self._held = text[:start], text[start:]
        return self.redaction.restore(text)

    def flush(self) -> str:
        text, self._held = self._held, ""
        return self.redaction.restore(text)


def payload_fingerprint(messages: Sequence[Message]) -> str:
    payload = [{"role": m.role, "content": m.content, "images": len(m.images)} for m in messages]
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode("utf-8")).hexdigest()


class RedactingProvider:
    """A remote provider seen through redaction; it remembers what it last sent."""

    def __init__(self, inner: Provider, redaction: Redaction):
        self.inner = inner
        self.redaction = redaction
        self.model_id = inner.model_id
        self.location = inner.location
        self.n_ctx = inner.n_ctx
        self.sent_fingerprint: str | None = None

    @property
    def label(self) -> str:
        return self.inner.label

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def close(self) -> None:
        self.inner.close()

    def outgoing(self, messages: Sequence[Message]) -> list[Message]:
        """Exactly what would be sent: shown for consent, then sent."""
        return [replace(m, content=self.redaction.redact(m.content)) for m in messages]

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int, sampling: Sampling | None = None
    ) -> Iterator[Chunk]:
        outgoing = self.outgoing(messages)
        self.sent_fingerprint = payload_fingerprint(outgoing)
        restorer = StreamRestorer(self.redaction)
        stream = self.inner.stream(outgoing, max_tokens=max_tokens, sampling=sampling)
        try:
            for chunk in stream:
                text = restorer.feed(chunk.text)
                if chunk.finish_reason is not None:
                    text += restorer.flush()
                yield replace(chunk, text=text)
        finally:
            stream.close()
