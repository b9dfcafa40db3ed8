"""shared.ids: the ids that replace uuid4 on hot paths look like uuid4's and never repeat, across threads and forks."""

from __future__ import annotations

import os
import re
import threading
import uuid

from shared.ids import IdMinter, unique_hex


def test_an_id_is_shaped_as_a_uuid4_hex() -> None:
    value = unique_hex()
    assert re.fullmatch(r"[0-9a-f]{32}", value)
    parsed = uuid.UUID(hex=value)
    assert parsed.version == 4
    assert parsed.variant == uuid.RFC_4122


def test_ids_minted_by_several_threads_never_repeat() -> None:
    minted: list[list[str]] = [[] for _ in range(8)]

    def mint(into: list[str]) -> None:
        into.extend(unique_hex() for _ in range(5000))

    threads = [threading.Thread(target=mint, args=(into,)) for into in minted]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [value for into in minted for value in into]
    assert len(set(everything)) == len(everything) == 40000


def test_two_processes_keys_give_unrelated_sequences() -> None:
    first, second = IdMinter(), IdMinter()
    assert {first.mint() for _ in range(100)}.isdisjoint({second.mint() for _ in range(100)})


def test_a_forked_child_does_not_repeat_its_parents_next_ids() -> None:
    """gunicorn forks its workers from one master: were the key inherited, two workers would mint the same ids."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next ids and leave without running pytest's teardown
        os.close(read_end)
        os.write(write_end, "".join(unique_hex() for _ in range(10)).encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:
        received = reader.read().decode()
    os.waitpid(pid, 0)
    child = {received[i : i + 32] for i in range(0, len(received), 32)}
    assert len(child) == 10
    assert child.isdisjoint({unique_hex() for _ in range(10)})
