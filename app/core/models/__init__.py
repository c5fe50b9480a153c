"""Local model files: downloads, what is on disk, what fits."""
