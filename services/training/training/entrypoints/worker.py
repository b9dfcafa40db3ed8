"""The training worker: the consumers, timers and relay its declaration names, run by shared.service."""

from __future__ import annotations

from shared.service import worker_main
from training.declaration import SPEC

if __name__ == "__main__":
    worker_main(SPEC)
