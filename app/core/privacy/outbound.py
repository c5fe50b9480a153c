"""What leaves the machine: the payload's fingerprint, and the reply with real values put back.

The outgoing gate (app/core/privacy/gate.py) redacts what a remote destination is sent
(placeholders shared by every destination of one answer), fingerprints the exact
payload with SHA-256 for the audit trail, and restores the reply's text with
``StreamRestorer``, even when a placeholder arrives split across chunks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from app.core.privacy.redaction import Redaction
from app.core.providers.base import Message

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
