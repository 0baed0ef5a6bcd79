"""Ports for the processes of a verify run: free, outside the ephemeral range, and never
handed out twice, so concurrently starting stacks cannot collide."""

from __future__ import annotations

import socket

import pytest

from stackgen.verify import ports
from stackgen.verify.ports import LOCAL_HOST, PORT_RANGE, PortsExhausted, free_port, free_ports


def test_no_port_is_handed_out_twice() -> None:
    # Nothing binds these between calls: a probe alone would offer them again.
    first = free_ports(200)
    second = free_ports(200) + [free_port() for _ in range(50)]
    assert len(set(first)) == 200
    assert not set(first) & set(second)
    assert len(set(second)) == 250


def test_ports_are_free_and_below_the_ephemeral_range() -> None:
    low, _ = (int(n) for n in open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
    for port in free_ports(20):
        assert port in PORT_RANGE and port < low
        with socket.socket() as listener:
            listener.bind((LOCAL_HOST, port))


def test_a_port_in_use_is_never_offered(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as taken:
        taken.bind((LOCAL_HOST, PORT_RANGE.start))
        taken.listen()
        monkeypatch.setattr(ports, "PORT_RANGE", range(PORT_RANGE.start, PORT_RANGE.start + 1))
        with pytest.raises(PortsExhausted, match="found 0 of 1 free ports"):
            free_ports(1)
