"""The hand-off: a request that finds no idle environment waits for one that has answered but
not yet called /next, rather than starting a new one, for as long as that environment is only
slow to get back, not busy.

Lambda's front end keeps sequential callers on one warm environment: the runtime is back in
/next within about a millisecond of its answer. Locally, a loaded host can leave it
unscheduled for tens or hundreds of ms, and a wall-clock grace then turns host load into
spurious cold starts (8 closed-loop users made 13 environments on a loaded host). So the wait
is bounded by what the environment does, not by the clock:

- it used more than `HANDOFF_CPU_S` of CPU since the request began waiting: it is doing
  work of its own after its answer (post-response work, a pending event loop): busy;
- it was neither running nor waiting for a CPU for more than `HANDOFF_IDLE_S` in that time
  (summed over its threads): it is waiting on something of its own (a timer, I/O): busy;
- otherwise the host has not yet given it the CPU it needs to get back: keep waiting (an
  environment that never returns is reset at its function's deadline, and its waiter goes cold).

A busy environment is left to finish and the request starts a new one, as Lambda does.
Sandboxes that cannot tell how their runtime was scheduled (the compose emulator's containers,
the in-memory fake, hosts without /proc) fall back to the wall clock: `HANDOFF_GRACE_S`.
(Our rule: Lambda does not document the mechanism. See docs/fidelity.md.)
"""

from __future__ import annotations

import time

from emulator.sandbox.base import ReportsScheduling, Sandbox

# A runtime needs about 1 ms of CPU to get from its answer back to /next (awslambdaric,
# aws-lambda-ric); ten times that is work of its own.
HANDOFF_CPU_S = 0.010
# Time off the CPU by its own choice (not waiting for one) that a hand-off does not need.
HANDOFF_IDLE_S = 0.050
# How often a waiting request looks at the environments it waits for.
HANDOFF_CHECK_S = 0.010
# Where scheduling is unknown: the wall-clock grace.
HANDOFF_GRACE_S = 0.5


class HandoffWatch:
    """One finishing environment's progress since a request began waiting for it."""

    __slots__ = ("_base", "_sandbox", "_since")

    def __init__(self, sandbox: Sandbox | None, now: float) -> None:
        self._since = now
        self._sandbox = sandbox if isinstance(sandbox, ReportsScheduling) else None
        self._base = self._sandbox.scheduling() if self._sandbox is not None else None

    def busy(self, now: float | None = None) -> bool:
        """Whether the environment is busy with work of its own rather than starved."""
        elapsed = (time.monotonic() if now is None else now) - self._since
        base = self._base
        current = self._sandbox.scheduling() if self._sandbox is not None else None
        if base is None or current is None:
            return elapsed > HANDOFF_GRACE_S
        ran = current[0] - base[0]
        waited = current[1] - base[1]
        return ran > HANDOFF_CPU_S or elapsed - ran - waited > HANDOFF_IDLE_S
