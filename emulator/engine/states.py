"""The execution environment's states, the moves allowed between them, and the typed events
that drive them.

    Init ──first /next──▶ Ready ──invoke──▶ Invoking ──answered──▶ Finishing ──/next──▶ Ready …
      │                     │                  │  (runtime already in /next) ──────────▶ Ready
      └── init failed ──────┴── reaped/reset ──┴── timeout / exit / OOM ───────────────▶ Shutdown

Every move goes through `check_transition`: a move the table does not list raises
`InvalidTransition` (disallow by default, as RIE's `core/states.go` does). The runtime's own
side of the lifecycle, as the Runtime API sees it, has its table in emulator/api/runtime.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from emulator.errors import InvalidTransition
from emulator.sandbox.base import ExitStatus


class EnvState(StrEnum):
    INIT = "Init"
    READY = "Ready"
    INVOKING = "Invoking"
    FINISHING = "Finishing"  # answered; the runtime has not called /next yet
    SHUTDOWN = "Shutdown"


TRANSITIONS: Final[dict[EnvState, frozenset[EnvState]]] = {
    EnvState.INIT: frozenset({EnvState.READY, EnvState.SHUTDOWN}),
    EnvState.READY: frozenset({EnvState.INVOKING, EnvState.SHUTDOWN}),
    EnvState.INVOKING: frozenset({EnvState.FINISHING, EnvState.READY, EnvState.SHUTDOWN}),
    EnvState.FINISHING: frozenset({EnvState.READY, EnvState.SHUTDOWN}),
    EnvState.SHUTDOWN: frozenset(),
}


def check_transition(current: EnvState, target: EnvState) -> EnvState:
    if target not in TRANSITIONS[current]:
        raise InvalidTransition(current, target)
    return target


# --- phase events: what can end an init or an invoke phase --------------------------------
@dataclass(frozen=True, slots=True)
class RuntimeReady:
    """The runtime called /next for the first time: its init is done."""

    at: float  # perf_counter


@dataclass(frozen=True, slots=True)
class SandboxExited:
    status: ExitStatus


@dataclass(frozen=True, slots=True)
class TimedOut:
    pass


@dataclass(frozen=True, slots=True)
class ExtensionsReady:
    """What the environment waited for on its extensions holds (registered, or all in next)."""

    at: float
