"""What the command line accepts, checked before any command runs.

Ids are SQLite row ids (1 to 2^63 - 1); a larger number cannot name anything
and would overflow the database driver. Text arguments must be valid text:
on POSIX a byte that is not UTF-8 reaches Python as a lone surrogate that no
file, database or terminal can take, so it is refused with the argument named.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

LARGEST_ID = 2**63 - 1


def _whole_number(text: str, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not {what} (a whole number such as 12)") from None
    if not 1 <= value <= LARGEST_ID:
        raise argparse.ArgumentTypeError(f"{text} is not {what}: those are whole numbers from 1 to {LARGEST_ID}")
    return value


def row_id(text: str) -> int:
    """An argparse type: a conversation or message id."""
    return _whole_number(text, "an id")


def count(text: str) -> int:
    """An argparse type: how many of something."""
    return _whole_number(text, "a count")


def _undecodable(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
    elif isinstance(value, list):
        return any(_undecodable(item) for item in value)
    return False


def undecodable_argument(args: argparse.Namespace) -> str | None:
    """Why a text argument cannot be used (it is not valid UTF-8), or None; paths may be any bytes."""
    for name, value in vars(args).items():
        if not isinstance(value, Path) and _undecodable(value):
            return (
                f"the argument {name.replace('_', '-')} is not valid UTF-8 text. Check your terminal's encoding "
                "(a UTF-8 locale), or type the text again."
            )
    return None
