"""The numbers of a model's architecture that decide how much memory it needs.

They come from the GGUF header (exact) or, before the header has been read, from the
catalog (the same numbers, written down when the entry was added).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.core.catalog.gguf_header import GgufHeader, NotGguf, Value


class ModelShape(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    layers: int = Field(ge=1)
    heads: int = Field(ge=1)
    kv_heads: int = Field(ge=1)
    key_length: int = Field(ge=1, description="size of one attention head's key")
    value_length: int = Field(ge=1)
    embedding: int = Field(ge=1)
    feed_forward: int = Field(ge=1)
    vocab: int = Field(ge=1)
    context: int = Field(ge=1, description="the context length it was trained for")


def _largest(value: Value | None) -> int | None:
    """A count that some architectures give per layer (a list): the largest, which sizes the buffers."""
    if isinstance(value, list):
        numbers = [v for v in value if isinstance(v, int) and not isinstance(v, bool)]
        return max(numbers) if numbers else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def shape_of(header: GgufHeader) -> ModelShape:
    """The shape a header describes; NotGguf when it lacks what a chat model has."""
    meta = header.metadata
    arch = meta.get("general.architecture")
    if not isinstance(arch, str):
        raise NotGguf("the header does not name the model's architecture")

    def number(key: str) -> int | None:
        return _largest(meta.get(f"{arch}.{key}"))

    layers, heads, embedding = number("block_count"), number("attention.head_count"), number("embedding_length")
    if not layers or not heads or not embedding:
        raise NotGguf(f"the header of this {arch} model lacks its layer count, heads or width")
    key_length = number("attention.key_length") or embedding // heads
    tokens = meta.get("tokenizer.ggml.tokens")
    vocab = number("vocab_size") or (len(tokens) if isinstance(tokens, list) else _largest(tokens)) or 1
    return ModelShape(
        layers=layers,
        heads=heads,
        kv_heads=number("attention.head_count_kv") or heads,
        key_length=key_length,
        value_length=number("attention.value_length") or key_length,
        embedding=embedding,
        feed_forward=number("feed_forward_length") or 4 * embedding,
        vocab=vocab,
        context=number("context_length") or 2048,
    )
