"""Hearth's configuration: models.toml as pydantic models, read and edited with its comments kept; API keys."""
