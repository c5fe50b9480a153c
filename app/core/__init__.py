"""Everything that decides and computes. Never imports Qt."""
