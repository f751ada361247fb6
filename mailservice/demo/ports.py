"""Choosing loopback ports for the demo servers."""

from __future__ import annotations

import socket

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def is_free(port: int) -> bool:
    """True when `port` can be bound on loopback now."""
    with socket.socket() as probe:
        # The servers bind with SO_REUSEADDR, so a port whose old connections
        # still linger in TIME_WAIT is free for them too.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def pick_port(wanted: int | None, previous: int | None) -> int:
    """The port asked for, else the one used last time if still free, else any."""
    if wanted:
        return wanted
    if previous and is_free(previous):
        return previous
    return free_port()
