"""The governance worker: the consumers, timers and relay its declaration names, run by shared.service."""

from __future__ import annotations

from governance.declaration import SPEC
from shared.service import worker_main

if __name__ == "__main__":
    worker_main(SPEC)
