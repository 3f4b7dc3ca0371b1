"""What one function can do to another environment, and who can reach the emulator at all.

See docs/security.md. Functions share the host's network namespace, so a hostile function
can connect to another environment's Runtime API listener on 127.0.0.1; the listener admits
only connections from its own environment's processes (emulator/sandbox/peers.py), so it can
neither read the event in flight nor answer it.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from emulator.config import EmulatorConfig
from emulator.embedded import EmulatorThread

from .conftest import Answer, assert_clean, held_invocation, trace_records

Call = Callable[..., Answer]
SECRET = "the-other-tenant-s-secret"


@pytest.fixture(autouse=True)
def nothing_left(fault_emulator: EmulatorThread, fault_token: str) -> Iterator[None]:
    yield
    assert_clean(fault_emulator, fault_token)


def _other_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback."""
    return [
        a.address
        for addrs in psutil.net_if_addrs().values()
        for a in addrs
        if a.family == socket.AF_INET and not a.address.startswith("127.")
    ]


def _refused(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return False
    except OSError:
        return True


def test_listeners_are_on_loopback_only(
    fault_emulator: EmulatorThread, call: Call, fault_probe_dir: Path
) -> None:
    assert EmulatorConfig(functions=()).host == "127.0.0.1"  # the default; serve warns otherwise
    others = _other_addresses()
    if not others:
        pytest.skip("this machine has no address but loopback")
    with held_invocation(fault_emulator, call, fault_probe_dir, {}) as held:
        for host in others:
            assert _refused(host, fault_emulator.port), f"Invoke API reachable on {host}"
            assert _refused(host, held.runtime_port), f"Runtime API reachable on {host}"


def test_another_process_is_turned_away(
    fault_emulator: EmulatorThread, call: Call, fault_probe_dir: Path
) -> None:
    # This test's own process reaches the listener, even with a plausible request id
    blind = (
        b"POST /2018-06-01/runtime/invocation/00000000-0000-4000-8000-000000000000/response"
        b" HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"
    )
    with held_invocation(fault_emulator, call, fault_probe_dir, {"secret": SECRET}) as held:
        sock = socket.create_connection(("127.0.0.1", held.runtime_port), timeout=5)
        with sock:
            sock.sendall(blind)
            answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 403 ") and b"AccessDenied" in answer
    assert held.answer is not None and held.answer.json()["event"]["secret"] == SECRET


def test_another_function_cannot_read_an_invocation_in_flight(
    fault_emulator: EmulatorThread, call: Call, fault_probe_dir: Path
) -> None:
    with held_invocation(fault_emulator, call, fault_probe_dir, {"secret": SECRET}) as held:
        target = f"127.0.0.1:{held.runtime_port}"
        peek = call("fault_rogue", {"mode": "peek", "target": target}).json()
    assert peek["status"] == 403 and SECRET not in peek["event"], peek


def test_another_function_cannot_answer_an_invocation_in_flight(
    fault_emulator: EmulatorThread, call: Call, fault_probe_dir: Path
) -> None:
    with held_invocation(fault_emulator, call, fault_probe_dir, {"secret": SECRET}) as held:
        target = f"127.0.0.1:{held.runtime_port}"
        peek = call("fault_rogue", {"mode": "peek", "target": target, "answer": True}).json()
    assert peek["status"] == 403 and "answer_status" not in peek, peek
    answer = held.answer
    assert answer is not None
    assert len(trace_records(fault_emulator, held.request_id)) == 1  # one outcome: its own
    assert answer.json()["event"]["secret"] == SECRET
