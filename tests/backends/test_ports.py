"""free_port: ports outside the kernel's ephemeral range, never one held, never one twice."""

from __future__ import annotations

import random
import socket
from pathlib import Path

import pytest

from vigil.backends import _ports
from vigil.backends._ports import ephemeral_range, free_port, outside


def test_the_ephemeral_range_is_read_and_a_bad_file_falls_back_to_linux_default(
    tmp_path: Path,
) -> None:
    good = tmp_path / "range"
    good.write_text("20000\t50000\n")
    assert ephemeral_range(good) == (20000, 50000)
    for text in ("", "junk", "5 3", "0 70000"):
        good.write_text(text)
        assert ephemeral_range(good) == _ports.LINUX_DEFAULT
    assert ephemeral_range(tmp_path / "missing") == _ports.LINUX_DEFAULT


def test_outside_leaves_out_the_ephemeral_range_and_the_well_known_ports() -> None:
    assert outside(32768, 60999) == [range(10000, 32768), range(61000, 65536)]
    assert outside(1024, 65535) == []
    assert outside(5000, 40000) == [range(40001, 65536)]


def test_picked_ports_are_outside_the_ephemeral_range_bindable_and_distinct() -> None:
    low, high = ephemeral_range()
    ports = [free_port() for _ in range(200)]
    assert len(set(ports)) == len(ports)
    if outside(low, high):
        assert all(not low <= p <= high for p in ports)
    for port in ports[:20]:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))


def test_a_port_someone_listens_on_is_never_picked(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        taken = held.getsockname()[1]
        # The other candidate is one free_port picks outside the kernel's ephemeral range:
        # taken + 1 was in that range, where other processes' connections took it now and then.
        other = free_port()
        # Only the held port and the other are candidates: the other must come back, however
        # the draw falls.
        candidates = [range(taken, taken + 1), range(other, other + 1)]
        monkeypatch.setattr(_ports, "outside", lambda low, high: candidates)
        for seed in range(4):
            monkeypatch.setattr(_ports, "_handed", _ports.deque(maxlen=8))
            assert free_port(rng=random.Random(seed)) == other


def test_with_no_room_outside_the_range_the_kernel_picks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_ports, "ephemeral_range", lambda: (1024, 65535))
    port = free_port()
    assert 1024 <= port <= 65535
