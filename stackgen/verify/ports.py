"""Free TCP ports on 127.0.0.1 for the processes of a verify run.

A port is probed free, then handed to a program that binds it a moment later; many
stacks start at once, so two rules keep those moments from colliding:
- ports come from below the kernel's ephemeral range (32768-60999 on Linux), so no
  outgoing connection takes one as its source port meanwhile;
- no port is handed out twice in one process, so a port chosen for one stack but not
  yet bound cannot go to another.
"""

from __future__ import annotations

import random
import socket
import threading

__all__ = ["LOCAL_HOST", "PortsExhausted", "free_port", "free_ports"]

LOCAL_HOST = "127.0.0.1"
PORT_RANGE = range(20000, 32768)
# Tries per port asked for: ample for a range of 12,768 ports mostly free.
_TRIES_PER_PORT = 50

_lock = threading.Lock()
_handed_out: set[int] = set()
_random = random.Random()


class PortsExhausted(RuntimeError):
    """No free port was found in the range within the bounded number of tries."""


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((LOCAL_HOST, port))
        except OSError:
            return False
        return True


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports, free now and never handed out before in this process."""
    with _lock:
        chosen: list[int] = []
        for _ in range(count * _TRIES_PER_PORT):
            if len(chosen) == count:
                break
            port = _random.choice(PORT_RANGE)
            if port not in _handed_out and port not in chosen and _bindable(port):
                chosen.append(port)
        if len(chosen) < count:
            raise PortsExhausted(
                f"found {len(chosen)} of {count} free ports in {PORT_RANGE.start}-"
                f"{PORT_RANGE.stop - 1} on {LOCAL_HOST}"
            )
        _handed_out.update(chosen)
        return chosen


def free_port() -> int:
    return free_ports(1)[0]
