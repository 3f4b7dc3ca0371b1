"""Who is on the other end of a loopback connection: only an environment's own processes may
use its Runtime API.

Environments share the host's network namespace, so any local process can reach any
environment's listener on 127.0.0.1; the request id alone would not stop one function from
reading another's event (a repeated /next returns the invocation in flight) and answering it.
When a connection arrives, the emulator asks the kernel (sock_diag) for the client socket's
inode and looks for it among the file descriptors of the environment's process tree (runtime, its
children, its extensions). Lambda needs no such check (each sandbox is a microVM); this is how
the emulator gets the same isolation without network namespaces, which would cut functions off
from services on the host's loopback.

The cost is paid once per connection (runtimes keep theirs open): one netlink request and a
readlink per descriptor of the environment's processes.
"""

from __future__ import annotations

import os
import socket
import struct

_NETLINK_SOCK_DIAG = 4
_SOCK_DIAG_BY_FAMILY = 20
_NLM_F_REQUEST = 1
_NLMSG_ERROR = 2
_NO_COOKIE = 0xFFFFFFFF


def socket_inode(client: tuple[str, int], server: tuple[str, int]) -> int | None:
    """The inode of the client-side socket of the TCP connection client → server.

    One exact sock_diag (inet_diag) lookup by the connection's addresses: the kernel finds
    the socket in its hash table, where reading /proc/net/tcp would print every socket on
    the machine (~20 ms with a few hundred).
    """
    try:
        src = socket.inet_aton(client[0]).ljust(16, b"\0")
        dst = socket.inet_aton(server[0]).ljust(16, b"\0")
    except OSError:  # not IPv4
        return None
    sockid = struct.pack("!HH", client[1], server[1]) + src + dst
    sockid += struct.pack("=III", 0, _NO_COOKIE, _NO_COOKIE)  # any interface, no cookie
    req = struct.pack("=BBBxI", socket.AF_INET, socket.IPPROTO_TCP, 0, 0xFFFFFFFF) + sockid
    header = struct.pack("=IHHII", 16 + len(req), _SOCK_DIAG_BY_FAMILY, _NLM_F_REQUEST, 1, 0)
    netlink = getattr(socket, "AF_NETLINK", None)  # Linux only (capabilities.sock_diag)
    if netlink is None:
        return None
    try:
        with socket.socket(netlink, socket.SOCK_DGRAM, _NETLINK_SOCK_DIAG) as nl:
            nl.sendto(header + req, (0, 0))
            data = nl.recv(8192)
    except OSError:
        return None
    if len(data) < 16 + 72:
        return None
    _length, kind = struct.unpack_from("=IH", data)
    if kind == _NLMSG_ERROR:
        return None  # no such connection (the client is gone)
    # struct inet_diag_msg: family, state, timer, retrans, sockid (48 bytes), expires,
    # rqueue, wqueue, uid, inode
    (inode,) = struct.unpack_from("=I", data, 16 + 4 + 48 + 16)
    return int(inode) or None


def owns_socket(pids: list[int], inode: int) -> bool:
    """Whether one of `pids` holds a descriptor of socket `inode`."""
    target = f"socket:[{inode}]"
    for pid in pids:
        fd_dir = f"/proc/{pid}/fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"{fd_dir}/{fd}") == target:
                    return True
            except OSError:
                continue
    return False


def tree(pid: int) -> list[int]:
    """pid and all its descendants, from /proc/<pid>/task/<tid>/children."""
    out: list[int] = []
    stack = [pid]
    while stack:
        p = stack.pop()
        out.append(p)
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{p}/task/{tid}/children") as fh:
                    stack.extend(int(c) for c in fh.read().split())
            except OSError:
                continue
    return out


def connection_from_tree(client: tuple[str, int], server: tuple[str, int], root_pid: int) -> bool:
    """Whether the connection client → server was opened by root_pid or a descendant."""
    inode = socket_inode(client, server)
    return inode is not None and owns_socket(tree(root_pid), inode)
