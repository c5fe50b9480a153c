"""The models Hearth talks to, one small class each, and what builds them from the configuration."""
