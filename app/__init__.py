"""Hearth: a desktop AI assistant that is private by default."""

__version__ = "0.1.0"
