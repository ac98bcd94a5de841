"""Password hashing with argon2id through pwdlib."""

from __future__ import annotations

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher


class Argon2Passwords:
    """argon2id with pwdlib's recommended parameters; old hashes are upgraded on login."""

    def __init__(self, *, fast: bool = False) -> None:
        # The fast profile exists for the test suite only, where hundreds of logins run.
        hasher = Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1) if fast else None
        self._hash = PasswordHash((hasher,)) if hasher else PasswordHash.recommended()

    def hash(self, password: str) -> str:
        return self._hash.hash(password)

    def verify_and_update(self, password: str, hashed: str) -> tuple[bool, str | None]:
        return self._hash.verify_and_update(password, hashed)
