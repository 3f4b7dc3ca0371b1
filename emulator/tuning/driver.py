"""Power tuning's driver: runs workloads through an emulator of its own over the Invoke API
(emulator.client), and turns the REPORT lines into measurements (emulator/tuning/stats.py).

Serial runs go in rounds of one invocation per size, so that other load on the host slows
every size alike; parallel runs send a size's N invocations at once. Cold-start-only runs
reset the function through the control API before each invocation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from emulator import cost, loops
from emulator.client import AsyncInvokeClient, InvokeResult
from emulator.config import EmulatorConfig, FunctionConfig
from emulator.metrics.report import Report
from emulator.tuning.stats import (
    DEFAULT_BALANCED_WEIGHT,
    DEFAULT_MEMORY_SIZES,
    STRATEGIES,
    Measurement,
    ProgressCallback,
    Strategy,
    TuningError,
    TuningResult,
    Workload,
    payload_sequence,
    recommend,
    sample_from,
    sized_function,
    summarise,
)

RESET_DEADLINE_S = 30.0


# --- running ---------------------------------------------------------------------------------


def measure(
    functions: Sequence[FunctionConfig],
    workload: Workload,
    *,
    state_dir: Path,
    on_progress: ProgressCallback | None = None,
    warn: Callable[[str], None] | None = None,
) -> list[Measurement]:
    """Run `workload` through each function in turn on one emulator (port 0, 127.0.0.1)."""
    names = [fn.name for fn in functions]
    if len(set(names)) != len(names):
        raise TuningError(f"function names must differ, got {', '.join(names)}")
    cfg = EmulatorConfig(
        # $LATEST only: versions and aliases would start pools (and provisioned ones) unused
        functions=tuple(
            replace(fn, provisioned_concurrency=0, versions=(), aliases=()) for fn in functions
        ),
        host="127.0.0.1",
        port=0,
        state_dir=state_dir,
        log_to_terminal=False,
    )
    return loops.run(_measure(cfg, workload, on_progress, warn))


def tune(
    fn: FunctionConfig,
    memory_sizes: Sequence[int] = DEFAULT_MEMORY_SIZES,
    workload: Workload | None = None,
    *,
    strategy: Strategy = "cost",
    balanced_weight: float = DEFAULT_BALANCED_WEIGHT,
    state_dir: Path,
    on_progress: ProgressCallback | None = None,
    warn: Callable[[str], None] | None = None,
) -> TuningResult:
    """Measure `fn` at every size in `memory_sizes` and recommend one."""
    if strategy not in STRATEGIES:
        raise TuningError(f"the strategy must be cost, speed or balanced, got {strategy!r}")
    if not 0.0 <= balanced_weight <= 1.0:
        raise TuningError(f"the balanced weight must be from 0 to 1, got {balanced_weight}")
    sizes = sorted(set(memory_sizes))
    if not sizes:
        raise TuningError("at least one memory size is needed")
    workload = workload or Workload()
    variants = [sized_function(fn, mb, workload.architecture) for mb in sizes]
    measurements = measure(
        variants, workload, state_dir=state_dir, on_progress=on_progress, warn=warn
    )
    return TuningResult(
        function=fn.name,
        strategy=strategy,
        balanced_weight=balanced_weight,
        workload=workload,
        measurements=tuple(measurements),
        recommendation=recommend(measurements, strategy, balanced_weight),
    )


async def _measure(
    cfg: EmulatorConfig,
    workload: Workload,
    on_progress: ProgressCallback | None,
    warn: Callable[[str], None] | None,
) -> list[Measurement]:
    from emulator.server import Emulator

    emu = Emulator(cfg) if warn is None else Emulator(cfg, warn=warn)
    payloads = payload_sequence(workload.payloads, workload.invocations)
    total = len(cfg.functions) * workload.invocations
    done = 0

    def step(label: str) -> None:
        nonlocal done
        done += 1
        if on_progress is not None:
            on_progress(done, total, label)

    try:
        await emu.start()
        timeout = max(fn.timeout_s for fn in cfg.functions) + cfg.init_timeout_s + 30.0
        connections = max(10, workload.invocations)
        async with AsyncInvokeClient(
            emu.url, timeout=timeout, max_connections=connections
        ) as client:
            if workload.parallel:
                outcomes = [
                    await _parallel(client, fn, workload, payloads, step) for fn in cfg.functions
                ]
            else:
                outcomes = await _interleaved(client, cfg.functions, workload, payloads, step)
        return [
            _summarise_outcomes(fn, runs, workload)
            for fn, runs in zip(cfg.functions, outcomes, strict=True)
        ]
    finally:
        await emu.stop()


Outcome = tuple[Report | None, str | None]  # the REPORT line, the error if it failed


def _label(fn: FunctionConfig) -> str:
    return f"{fn.name} ({fn.memory_mb} MB)"


async def _parallel(
    client: AsyncInvokeClient,
    fn: FunctionConfig,
    workload: Workload,
    payloads: Sequence[bytes],
    step: Callable[[str], None],
) -> list[Outcome]:
    """A function's invocations all at once: each in its own environment, as power tuning's
    parallel mode does."""
    if workload.only_cold_starts:
        await _reset(client, fn.name)

    async def one(body: bytes) -> Outcome:
        outcome = _outcome(await client.invoke(fn.name, raw=body))
        step(_label(fn))
        return outcome

    return list(await asyncio.gather(*(one(body) for body in payloads)))


async def _interleaved(
    client: AsyncInvokeClient,
    functions: Sequence[FunctionConfig],
    workload: Workload,
    payloads: Sequence[bytes],
    step: Callable[[str], None],
) -> list[list[Outcome]]:
    """One invocation at a time, in rounds of one per function: a burst of other load on the
    host then slows every size alike instead of whichever size it lands on."""
    outcomes: list[list[Outcome]] = [[] for _ in functions]
    for round_no, body in enumerate(payloads, start=1):
        for fn, runs in zip(functions, outcomes, strict=True):
            if workload.only_cold_starts:
                await _reset(client, fn.name)
            runs.append(_outcome(await client.invoke(fn.name, raw=body)))
            step(f"round {round_no}/{len(payloads)}")
    return outcomes


def _outcome(result: InvokeResult) -> Outcome:
    return result.report, result.error


def _summarise_outcomes(
    fn: FunctionConfig, outcomes: Sequence[Outcome], workload: Workload
) -> Measurement:
    bill_init = cost.init_is_billed(fn.runtime, fn.package_type, standard=workload.bill_init)
    samples = [
        sample_from(report, error, bill_init=bill_init)
        for report, error in outcomes
        if report is not None
    ]
    errors = [error for _, error in outcomes if error is not None]
    return summarise(fn, samples, errors, workload, len(outcomes))


async def _reset(client: AsyncInvokeClient, name: str) -> None:
    """Shut every environment of the function down, so the next invocation starts cold."""
    try:
        await client.reset(name, wait=True)
    except Exception as exc:
        raise TuningError(
            f"'{name}': environments still running {RESET_DEADLINE_S:.0f} s after a reset ({exc})"
        ) from exc
