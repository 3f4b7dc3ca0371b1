"""The discrete-event core: one function's execution environments under Lambda's scaling rules.

    arrival at t ─ an idle provisioned environment?  yes → warm (provisioned)
                 ─ an idle, loaded on-demand one?    yes → warm: the most recently used one
                 ─ concurrency left (reserved/account) and a scaling token?  yes → cold start
                                                                              no  → throttled (429)

One environment serves one request at a time; a cold start is busy for Init Duration + Duration.
An on-demand environment that finishes becomes idle and is kept for the keep-alive policy's
window, then reclaimed. Provisioned environments are initialised before the run and never
reclaimed; traffic beyond them spills over to on-demand environments. New environments are
limited to 1,000 per 10 s per function (a token bucket refilled continuously, no banking beyond
1,000; LAMBDA_SPEC §7).

The loop visits each arrival once. Live on-demand environments are kept as one sorted list of
the times they become free (busy ones in the future, idle ones in the past): the most recently
used idle environment is the latest free time not after `t` (one `bisect`), and expired ones
drop off the front. Environment identities are never needed: the number of live environments
changes only when one is created (cold start, pre-warm load) or reclaimed, and those instants
are recorded, so every time-average and the chart come from two sorted arrays afterwards.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right, insort
from dataclasses import dataclass
from heapq import heappop, heappush, heappushpop, heapreplace
from typing import Literal

import numpy as np
import numpy.typing as npt

from emulator.model.distributions import FloatArray, ModelInputError
from emulator.model.keepalive import (
    FixedKeepAlive,
    HybridHistogramPolicy,
    KeepAlivePolicy,
    ReaperKeepAlive,
)

WARM = 0
COLD = 1
PROVISIONED = 2
THROTTLED = 3

# Lambda's scaling rate: 1,000 new environments per 10 s per function (LAMBDA_SPEC §7).
SCALE_BURST = 1000.0
SCALE_PER_S = 100.0

Reuse = Literal["recent", "newest"]


@dataclass(frozen=True, slots=True)
class Limits:
    """Concurrency rules of one run."""

    provisioned: int = 0
    concurrency: int | None = None  # reserved concurrency, else the account's; None: unlimited
    scale_per_s: float | None = SCALE_PER_S  # None: no scaling-rate limit
    scale_burst: float = SCALE_BURST


@dataclass(frozen=True)
class Run:
    """What one simulation produced; `emulator.model.results.summarise` turns it into figures."""

    arrivals: FloatArray  # seconds from the start, sorted
    kind: npt.NDArray[np.uint8]  # WARM, COLD, PROVISIONED or THROTTLED per invocation
    busy_s: FloatArray  # how long each invocation held its environment (0 when throttled)
    init_s: FloatArray  # Init Duration of each cold start (0 otherwise)
    births: FloatArray  # sorted instants an on-demand environment became live (loaded)
    deaths: FloatArray  # sorted instants one was reclaimed or unloaded
    horizon_s: float
    provisioned: int


def simulate(
    arrivals: FloatArray,
    warm_s: FloatArray,
    init_s: FloatArray,
    keep_alive: KeepAlivePolicy,
    *,
    limits: Limits | None = None,
    cold_s: FloatArray | None = None,
    horizon_s: float | None = None,
    rng: np.random.Generator | None = None,
    reuse: Reuse = "recent",
) -> Run:
    """Simulate one function. `warm_s[i]` is invocation i's Duration, `init_s[i]` its Init
    Duration should it be cold; a cold start holds its environment `init_s + warm_s`, or
    `cold_s[i]` when given (SimFaaS's cold service time). Times in seconds.

    `reuse`: which idle environment serves — `recent`, the most recently used (Lambda, and the
    emulator's pool), or `newest`, the most recently created (SimFaaS's scheduler)."""
    limits = limits or Limits()
    rng = rng or np.random.default_rng(0)
    n = len(arrivals)
    if len(warm_s) != n or len(init_s) != n or (cold_s is not None and len(cold_s) != n):
        raise ModelInputError("arrivals and service times differ in length")
    if n and float(np.min(np.diff(arrivals), initial=0.0)) < 0:
        raise ModelInputError("arrivals must be sorted")
    cold_total = (init_s + warm_s) if cold_s is None else cold_s
    horizon = float(arrivals[-1]) if horizon_s is None and n else float(horizon_s or 0.0)
    if isinstance(keep_alive, HybridHistogramPolicy):
        if reuse != "recent":
            raise ModelInputError("the hybrid histogram policy reuses the most recent environment")
        kind, births, deaths = _loop_hybrid(arrivals, warm_s, cold_total, keep_alive, limits)
    elif isinstance(keep_alive, ReaperKeepAlive):
        if reuse != "recent":
            raise ModelInputError("the reaper keep-alive reuses the most recent environment")
        tick = (keep_alive.interval_s, float(rng.uniform(0.0, keep_alive.interval_s)))
        ka = keep_alive.draw(rng, n)
        kind, births, deaths = _loop(
            arrivals, warm_s, cold_total, ka, keep_alive.max_s, limits, tick=tick
        )
    elif reuse == "newest":
        ka = keep_alive.draw(rng, n)
        kind, births, deaths = _loop_newest(arrivals, warm_s, cold_total, ka, limits)
    elif isinstance(keep_alive, FixedKeepAlive):
        kind, births, deaths = _loop_fixed(arrivals, warm_s, cold_total, keep_alive.seconds, limits)
    else:
        ka = keep_alive.draw(rng, n)
        kind, births, deaths = _loop(
            arrivals, warm_s, cold_total, ka, float(keep_alive.max_s), limits
        )
    kinds = np.frombuffer(kind, dtype=np.uint8)
    busy = np.where(kinds == COLD, cold_total, warm_s)
    busy[kinds == THROTTLED] = 0.0
    init = np.where(kinds == COLD, cold_total - warm_s, 0.0)
    return Run(
        arrivals=arrivals,
        kind=kinds,
        busy_s=busy,
        init_s=init,
        births=np.sort(np.asarray(births, dtype=np.float64)),
        deaths=np.sort(np.asarray(deaths, dtype=np.float64)),
        horizon_s=horizon,
        provisioned=limits.provisioned,
    )


class _Admission:
    """Whether a new environment may be created: concurrency left and a scaling token."""

    __slots__ = ("burst", "last", "limit", "rate", "tokens")

    def __init__(self, limits: Limits) -> None:
        self.limit = limits.concurrency if limits.concurrency is not None else math.inf
        self.rate = limits.scale_per_s
        self.burst = limits.scale_burst
        self.tokens = limits.scale_burst
        self.last = 0.0

    def admit(self, t: float, in_flight: int) -> bool:
        if in_flight >= self.limit:
            return False
        if self.rate is not None:
            self.tokens = min(self.burst, self.tokens + (t - self.last) * self.rate)
            self.last = t
            if self.tokens < 1.0:
                return False
            self.tokens -= 1.0
        return True


def _in_flight(free_after: int, provisioned: list[float], t: float) -> int:
    return free_after + sum(1 for p in provisioned if p > t)


def _loop_fixed(
    arrivals: FloatArray,
    warm_s: FloatArray,
    cold_s: FloatArray,
    keep_alive: float,
    limits: Limits,
) -> tuple[bytearray, list[float], list[float]]:
    """Fixed keep-alive, most recent reuse: the hot loop, as lean as it gets. Every live
    environment free at or before `t` was free after `t - keep_alive`, so the most recent
    idle one is simply the last free time not after `t`."""
    n = len(arrivals)
    times = arrivals.tolist()
    warm_end = (arrivals + warm_s).tolist()  # when invocation i ends if it is warm
    kind = bytearray(n)
    births: list[float] = []
    freed: list[float] = []  # free times of reclaimed environments (+ keep_alive = death)
    free: list[float] = []  # when each live on-demand environment is (or was) free, sorted
    provisioned = [0.0] * limits.provisioned  # heap of free times of provisioned environments
    has_pc = bool(provisioned)
    admit = _Admission(limits).admit
    after, before, insert = bisect_right, bisect_left, insort
    for i, t in enumerate(times):
        if has_pc and provisioned[0] <= t:
            heapreplace(provisioned, warm_end[i])
            kind[i] = PROVISIONED
            continue
        if free and free[0] < t - keep_alive:
            cut = before(free, t - keep_alive)
            freed.extend(free[:cut])
            del free[:cut]
        j = after(free, t)
        if j:
            del free[j - 1]
            insert(free, warm_end[i])
        elif admit(t, _in_flight(len(free), provisioned, t) if has_pc else len(free)):
            births.append(t)
            kind[i] = COLD
            insert(free, t + float(cold_s[i]))
        else:
            kind[i] = THROTTLED
    freed.extend(free)
    return kind, births, [f + keep_alive for f in freed]


def _loop(
    arrivals: FloatArray,
    warm_s: FloatArray,
    cold_s: FloatArray,
    keep_alive_s: FloatArray,
    max_keep_alive: float,
    limits: Limits,
    *,
    tick: tuple[float, float] | None = None,
) -> tuple[bytearray, list[float], list[float]]:
    """A keep-alive drawn per idle period: the most recent idle environment may have been
    reclaimed while older ones live, so each free time carries its own deadline. With `tick`
    (interval, phase), the deadline moves on to the reaper's next tick."""
    n = len(arrivals)
    times = arrivals.tolist()
    warm = warm_s.tolist()
    cold = cold_s.tolist()
    ka = keep_alive_s.tolist()
    kind = bytearray(n)
    births: list[float] = []
    deaths: list[float] = []
    free: list[float] = []
    deadline: dict[float, float] = {}  # free time -> reclaimed at
    provisioned = [0.0] * limits.provisioned
    has_pc = bool(provisioned)
    admit = _Admission(limits).admit
    for i in range(n):
        t = times[i]
        if has_pc and provisioned[0] <= t:
            heapreplace(provisioned, t + warm[i])
            kind[i] = PROVISIONED
            continue
        if free and free[0] < t - max_keep_alive:
            cut = bisect_left(free, t - max_keep_alive)
            for f in free[:cut]:
                deaths.append(deadline.pop(f))
            del free[:cut]
        j = bisect_right(free, t) - 1
        while j >= 0:
            f = free[j]
            d = deadline[f]
            if d >= t:
                break
            del free[j]  # reclaimed while more recently used ones live on
            del deadline[f]
            deaths.append(d)
            j -= 1
        if j >= 0:
            del free[j]
            del deadline[f]
            end = t + warm[i]
        elif admit(t, _in_flight(len(free), provisioned, t)):
            births.append(t)
            kind[i] = COLD
            end = t + cold[i]
        else:
            kind[i] = THROTTLED
            continue
        while end in deadline:  # two environments free at the same instant
            end = math.nextafter(end, math.inf)
        insort(free, end)
        reclaimed = end + ka[i]
        if tick is not None:
            interval, phase = tick
            reclaimed = phase + interval * math.ceil((reclaimed - phase) / interval)
        deadline[end] = reclaimed
    deaths.extend(deadline.values())
    return kind, births, deaths


def _loop_newest(
    arrivals: FloatArray,
    warm_s: FloatArray,
    cold_s: FloatArray,
    keep_alive_s: FloatArray,
    limits: Limits,
) -> tuple[bytearray, list[float], list[float]]:
    """SimFaaS's scheduler: the most recently created idle environment serves. Busy
    environments wait in a heap of end times, idle ones in a heap by creation (newest first);
    expired idle ones are dropped when they come up. The environment that has just finished
    meets the idle heap in one `heappushpop`: most arrivals reuse it."""
    n = len(arrivals)
    times = arrivals.tolist()
    warm_end = (arrivals + warm_s).tolist()  # when invocation i ends if it is warm
    ka = keep_alive_s.tolist()
    kind = bytearray(n)
    births: list[float] = []
    deaths: list[float] = []
    busy: list[tuple[float, float, float]] = []  # (end, -created, keep-alive after it)
    idle: list[tuple[float, float]] = []  # (-created, reclaimed at)
    provisioned = [0.0] * limits.provisioned
    has_pc = bool(provisioned)
    admit = _Admission(limits).admit
    pop, push, pushpop = heappop, heappush, heappushpop
    for i, t in enumerate(times):
        # the environment freed last before t, as (-created, reclaimed at); older ones go idle
        neg: float | None = None
        reclaimed = 0.0
        while busy and busy[0][0] <= t:
            end, freed, keep = pop(busy)
            if neg is not None:
                push(idle, (neg, reclaimed))
            neg, reclaimed = freed, end + keep
        if has_pc and provisioned[0] <= t:
            if neg is not None:
                push(idle, (neg, reclaimed))
            heapreplace(provisioned, warm_end[i])
            kind[i] = PROVISIONED
            continue
        if neg is not None:
            if idle and idle[0][0] < neg:  # a newer environment is idle
                neg, reclaimed = pushpop(idle, (neg, reclaimed))
        elif idle:
            neg, reclaimed = pop(idle)
        while neg is not None:
            if reclaimed >= t:
                push(busy, (warm_end[i], neg, ka[i]))
                break
            deaths.append(reclaimed)
            neg, reclaimed = pop(idle) if idle else (None, 0.0)
        else:
            if admit(t, _in_flight(len(busy), provisioned, t)):
                births.append(t)
                kind[i] = COLD
                push(busy, (t + float(cold_s[i]), -t, ka[i]))
            else:
                kind[i] = THROTTLED
    deaths.extend(reclaimed for _, reclaimed in idle)
    deaths.extend(end + keep for end, _, keep in busy)
    return kind, births, deaths


def _loop_hybrid(
    arrivals: FloatArray,
    warm_s: FloatArray,
    cold_s: FloatArray,
    policy: HybridHistogramPolicy,
    limits: Limits,
) -> tuple[bytearray, list[float], list[float]]:
    """The hybrid histogram policy: an idle environment may be unloaded for a pre-warm window
    and loaded again before the next invocation is expected."""
    n = len(arrivals)
    times = arrivals.tolist()
    warm = warm_s.tolist()
    cold = cold_s.tolist()
    kind = bytearray(n)
    births: list[float] = []
    deaths: list[float] = []
    free: list[float] = []
    window: dict[float, tuple[float, float]] = {}  # free time -> (loaded from, reclaimed at)
    provisioned = [0.0] * limits.provisioned
    has_pc = bool(provisioned)
    admit = _Admission(limits).admit
    state = policy.state()
    last_end = -math.inf
    for i in range(n):
        t = times[i]
        running = (bool(free) and free[-1] > t) or (has_pc and max(provisioned) > t)
        if not running and last_end > -math.inf:
            state.observe(t - last_end)
        if has_pc and provisioned[0] <= t:
            end = t + warm[i]
            heapreplace(provisioned, end)
            last_end = max(last_end, end)
            kind[i] = PROVISIONED
            continue
        j = bisect_right(free, t) - 1
        chosen = -1
        unloaded: float | None = None
        while j >= 0:
            f = free[j]
            loaded_from, reclaimed = window[f]
            if reclaimed < t:
                _retire(free, window, j, births, deaths)
            elif loaded_from > t:
                if unloaded is None:
                    unloaded = f
            else:
                chosen = j
                break
            j -= 1
        if chosen >= 0:
            f = free.pop(chosen)
            loaded_from, _ = window.pop(f)
            if loaded_from > f:
                births.append(loaded_from)  # the pre-warm load happened
            end = t + warm[i]
        elif admit(t, _in_flight(len(free) - bisect_right(free, t), provisioned, t)):
            if unloaded is not None:  # an unloaded environment loads on demand: a cold start
                free.remove(unloaded)
                del window[unloaded]
            births.append(t)
            kind[i] = COLD
            end = t + cold[i]
        else:
            kind[i] = THROTTLED
            continue
        while end in window:
            end = math.nextafter(end, math.inf)
        pre_warm, keep = state.windows()
        if pre_warm > 0:
            deaths.append(end)  # unloaded as soon as it finishes
        insort(free, end)
        window[end] = (end + pre_warm, end + pre_warm + keep)
        last_end = max(last_end, end)
    for f in free:  # still live at the end; summaries clip to the horizon
        loaded_from, reclaimed = window[f]
        if loaded_from > f:
            births.append(loaded_from)
        deaths.append(reclaimed)
    return kind, births, deaths


def _retire(
    free: list[float],
    window: dict[float, tuple[float, float]],
    index: int,
    births: list[float],
    deaths: list[float],
) -> None:
    f = free.pop(index)
    loaded_from, reclaimed = window.pop(f)
    if loaded_from > f:
        births.append(loaded_from)
    deaths.append(reclaimed)
