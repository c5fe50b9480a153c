"""Measuring the cascade: the evaluation harness and its report, and usage statistics."""
