"""Random-looking unique ids (a token's `jti`, a request id) minted without a system call per id.

`uuid.uuid4()` reads the kernel's randomness with `os.urandom`, which releases the GIL around the system call. In a
gthread worker whose other threads are busy, getting the GIL back waits for one of them to give it up (up to the
5 ms switch interval): profiled under load, half of a client_credentials token's time went there. Here each
process draws one 256-bit key from `secrets` and an id is keyed BLAKE2b of a counter, i.e. a pseudorandom function
in counter mode, computed with the GIL held (hashlib keeps it for inputs this short). The ids are as unpredictable
as uuid4's to anyone without the key (no id tells the next one, nor how many were issued), unique within the
process (distinct counter values; a 128-bit output collision is as unlikely as two uuid4s meeting), and across
processes (each has its own key, and a fork child draws a new one, so gunicorn workers never share a sequence).
They are shaped as version-4 UUIDs, so whoever reads one sees nothing new.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import secrets
import uuid


class IdMinter:
    """The process's keyed counter; `next(self._counter)` is one C call, so two threads never get the same value."""

    def __init__(self) -> None:
        self.rekey()

    def rekey(self) -> None:
        self._key = secrets.token_bytes(32)
        self._counter = itertools.count()

    def mint(self) -> uuid.UUID:
        block = next(self._counter).to_bytes(16, "big")
        return uuid.UUID(bytes=hashlib.blake2b(block, key=self._key, digest_size=16).digest(), version=4)


_MINTER = IdMinter()
os.register_at_fork(after_in_child=_MINTER.rekey)


def unique_hex() -> str:
    """32 lowercase hex digits of a version-4 UUID, as `uuid.uuid4().hex`, without a system call."""
    return _MINTER.mint().hex
