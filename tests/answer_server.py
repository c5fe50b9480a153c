"""An OpenAI-compatible chat server on 127.0.0.1 that answers with exactly the text it is given.

A model's words are whatever its server sends, so hostile and huge answers are
served here as a service would stream them: in small deltas (``chunk``
characters each), in the documented chat-completions event format. A provider
pointed at ``{url}/{name}/v1`` gets the answer registered under ``name``.

    python -m tests.answer_server KIND SIZE [--chunk N]

serves one generated answer (see ``large_answer``) in its own process, prints
its base URL and runs until killed: the benchmarks keep the server's work off
the window's process, as a real server is.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.fault_server import serving

EVENTS_PER_WRITE = 512

LARGE_KINDS = ("code", "word", "prose")


def large_answer(kind: str, size: int) -> str:
    """An answer of about ``size`` characters: one code block, one unbroken word, or Markdown prose."""
    if kind == "code":
        line = "    total = sum(value * weight for value, weight in zip(values, weights))  # weighted\n"
        return "```python\n" + line * (size // len(line)) + "```\n"
    if kind == "word":
        return "a" * size
    paragraph = (
        "The **lighthouse** keeper kept a log of every ship, with `times`, winds and "
        "[the charts](https://example.com/charts) he used.\n\n- one point\n- another point\n\n"
    )
    return paragraph * (size // len(paragraph))


def events(text: str, chunk: int) -> Iterator[str]:
    """The chat-completions stream of ``text``: a role event, the deltas, the finish, the usage, [DONE]."""
    yield "data: " + json.dumps({"choices": [{"index": 0, "delta": {"role": "assistant"}}]}) + "\n\n"
    for start in range(0, len(text), chunk):
        delta = {"choices": [{"index": 0, "delta": {"content": text[start : start + chunk]}, "finish_reason": None}]}
        yield "data: " + json.dumps(delta) + "\n\n"
    yield "data: " + json.dumps({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}) + "\n\n"
    usage = {"prompt_tokens": 12, "completion_tokens": max(1, len(text) // 4)}
    yield "data: " + json.dumps({"choices": [], "usage": usage}) + "\n\n"
    yield "data: [DONE]\n\n"


class _AnswerService(BaseHTTPRequestHandler):
    answers: dict[str, str] = {}
    chunk = 16

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        name = self.path.strip("/").split("/", 1)[0]
        text = self.answers.get(name)
        if text is None:
            self.send_error(404, f"no answer named {name!r}")
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        batch: list[str] = []
        try:
            for event in events(text, self.chunk):
                batch.append(event)
                if len(batch) == EVENTS_PER_WRITE:
                    self.wfile.write("".join(batch).encode())
                    batch.clear()
            self.wfile.write("".join(batch).encode())
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def answer_server(answers: dict[str, str], chunk: int = 16) -> Iterator[str]:
    """Serve ``answers`` by name on 127.0.0.1; yields the base URL (``{url}/{name}/v1`` for one answer)."""
    _AnswerService.answers, _AnswerService.chunk = answers, chunk
    with serving(_AnswerService) as url:
        yield url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("kind", choices=LARGE_KINDS)
    parser.add_argument("size", type=int)
    parser.add_argument("--chunk", type=int, default=16)
    args = parser.parse_args()
    _AnswerService.answers, _AnswerService.chunk = {args.kind: large_answer(args.kind, args.size)}, args.chunk
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _AnswerService)
    print(f"http://127.0.0.1:{httpd.server_address[1]}", flush=True)
    httpd.serve_forever()


if __name__ == "__main__":
    main()
