"""Hearth and the computer it runs on: update checks and crash reports."""
