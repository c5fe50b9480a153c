"""Several API keys for one service, kept in order: the first is used, the next when it is refused or limited.

The keys of a service named ``openai`` are kept under ``openai``, ``openai.2``, … ``openai.8``, in
the keychain or in the environment variables ``HEARTH_KEY_OPENAI``, ``HEARTH_KEY_OPENAI_2``, …
A key is never shown; only where it comes from and its last four characters.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core.config import keys
from app.core.config.key_names import MOST_KEYS, env_name, slot_names
from app.core.errors import HearthError, InvalidInput


@dataclass(frozen=True)
class StoredKey:
    slot: str  # the name it is kept under
    found_in: str  # "keychain" or "environment"
    ending: str  # its last four characters, to tell keys apart


@dataclass(frozen=True)
class KeyStatus:
    name: str
    stored: list[StoredKey]
    keychain_problem: str | None  # why keys cannot be stored here, when they cannot

    @property
    def variable(self) -> str:
        return env_name(self.name)

    def summary(self) -> str:
        """One line for a table: how many keys, from where, or how to add one."""
        if not self.stored:
            if self.keychain_problem:
                return f"no key: this computer has no keychain, set {self.variable}"
            return "no key"
        places = sorted({k.found_in for k in self.stored})
        count = f"{len(self.stored)} keys" if len(self.stored) > 1 else "1 key"
        return f"{count} ({', '.join(places)})"

    def no_keychain_note(self) -> str | None:
        """What the page says on a computer without a keychain: that, and the exact variable."""
        if not self.keychain_problem:
            return None
        return (
            f"Keys cannot be stored here: {self.keychain_problem}. Set the environment variable "
            f"{self.variable} to the key (and {env_name(self.name + '.2')} for a second one), then restart Hearth."
        )


def api_keys(key_name: str) -> list[str]:
    """Every usable key of the service, in the order they are tried (a gap ends the list)."""
    found: list[str] = []
    for slot in slot_names(key_name):
        try:
            value = keys.api_key(slot)
        except InvalidInput:
            continue  # a key no header can carry is never sent; `status` says which
        if value is None:
            break
        found.append(value)
    return found


def status(key_name: str) -> KeyStatus:
    stored: list[StoredKey] = []
    for slot in slot_names(key_name):
        where = keys.where(slot)
        if where is None:
            break
        try:
            value = keys.api_key(slot) or ""
        except InvalidInput:
            value = ""
        stored.append(StoredKey(slot, where, value[-4:] if len(value) >= 12 else ""))
    return KeyStatus(key_name, stored, keys.keychain_problem())


def add_key(key_name: str, value: str) -> StoredKey:
    """Keep ``value`` as the service's next key; the same key twice is kept once."""
    current = status(key_name)
    clean = keys.clean_key(value, "The key you entered")
    if clean in api_keys(key_name):
        raise InvalidInput("That key is already stored for this service; nothing was changed.")
    if len(current.stored) >= MOST_KEYS:
        raise InvalidInput(f"This service already has {MOST_KEYS} keys; remove one first.")
    slot = slot_names(key_name)[len(current.stored)]
    keys.store_key(slot, clean)
    return StoredKey(slot, "keychain", clean[-4:] if len(clean) >= 12 else "")


def remove_key(key_name: str, position: int) -> None:
    """Remove the key at ``position`` (0: the first) from the keychain; the later ones move up."""
    current = status(key_name)
    if not 0 <= position < len(current.stored):
        raise InvalidInput(f"There is no key number {position + 1} for '{key_name}'.")
    if current.stored[position].found_in == "environment":
        raise HearthError(
            f"That key comes from the environment variable {env_name(current.stored[position].slot)}; "
            "unset it there to remove it."
        )
    values = [keys.api_key(k.slot) for k in current.stored]
    for slot in [k.slot for k in current.stored if k.found_in == "keychain"]:
        keys.delete_key(slot)
    kept = [v for i, v in enumerate(values) if i != position and v]
    for slot, value in zip(slot_names(key_name), kept, strict=False):
        if keys.where(slot) != "environment":
            keys.store_key(slot, value)
