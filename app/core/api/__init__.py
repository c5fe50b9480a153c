"""Hearth as a local OpenAI-compatible API: the private cascade for every other program on the desktop.

- ``access``: the key programs must send (keychain, or ``HEARTH_API_KEY``), generated on first start.
- ``wire``: the OpenAI wire format, read into pydantic models and written back.
- ``answering``: one request through the same cascade and outgoing gate the window uses.
- ``facts``: what Hearth adds to each answer (the ``hearth`` field and the X-Hearth-* headers).
- ``queue``: one generation per model at a time; the others wait, first come first served, in a bounded line.
- ``http``: the thin HTTP layer (Starlette); ``server``: serving it (uvicorn).
"""
