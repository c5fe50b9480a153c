"""Model providers: one streaming interface for local and remote models."""
