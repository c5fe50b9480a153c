"""What an API key may be called, and the environment variable it is read from.

A name is letters, digits, ``.``, ``_`` and ``-`` (ASCII, up to 64). Its
variable is ``HEARTH_KEY_`` and the name in upper case with ``.`` and ``-`` as
``_``. Distinct names could still meet in one variable (``work-openai`` and
``work.openai``); one configuration that uses both is refused, naming both,
so no key is ever read for the wrong service.
"""

from __future__ import annotations

import re

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
NAME_RULE = "letters a-z, digits, '.', '_' and '-' (up to 64, starting with a letter or digit)"
PREFIX = "HEARTH_KEY_"
# The key programs must send to Hearth's local API: in the keychain under this name, or in this variable.
SERVER_KEY_NAME = "api-server"
SERVER_KEY_VARIABLE = "HEARTH_API_KEY"


def env_name(key_name: str) -> str:
    return PREFIX + re.sub(r"[.-]", "_", key_name).upper()


def name_problem(key_name: str) -> str | None:
    """Why ``key_name`` cannot name a key, or None."""
    if NAME.fullmatch(key_name):
        return None
    return f"'{key_name}' cannot name an API key: use {NAME_RULE}"


MOST_KEYS = 8  # keys one service may hold: the first, then "NAME.2" … "NAME.8"


def slot_names(key_name: str) -> list[str]:
    """The names a service's keys are kept under, first to last: ``openai``, ``openai.2``, …"""
    return [key_name] + [f"{key_name}.{n}" for n in range(2, MOST_KEYS + 1)]
