"""Local models for this computer: its hardware, a curated catalog, fit estimates before download, and the ladder.

hardware      RAM, each GPU's memory from llama.cpp's own device list, the CPU module in use
gguf_header   a GGUF file's metadata, read from its first bytes (over HTTP Range, or from disk)
shape         the few numbers of a model's architecture the fit estimate needs
fit           weights + KV cache + compute buffers against this computer: a verdict and a speed class
entries       the shipped catalog (resources/catalog.toml), validated, and its opt-in refresh
choice        the best-fitting model for this computer and two alternatives
hub_search    searching the Hugging Face Hub by name for GGUF files
install       downloading a catalog model (and its projector), then placing it on the ladder
ladder        where a new local model joins the tiers, and why
"""
