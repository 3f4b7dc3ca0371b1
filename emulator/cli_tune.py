"""lambda-emu tune / compare: power tuning, locally (issue 6; docs/tuning.md).

    lambda-emu tune FUNCTION [--memory 128,256,...] [-n 10] [--payload JSON] [--strategy ...]
    lambda-emu compare A B [C ...] [-n 10] [--payload JSON]

Both run the emulator in-process on 127.0.0.1 (port 0) and read every figure from the REPORT
lines; `emulator.tuning` does the work and `emulator.cost` the pricing.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from emulator.cli_common import (
    EnvFileOpt,
    EnvVarsOpt,
    ManifestOpt,
    fail,
    function,
    load_functions,
    overridden,
    read_overrides,
    warn,
)

if TYPE_CHECKING:
    from emulator.config import FunctionConfig
    from emulator.tuning import Workload

InvocationsOpt = Annotated[
    int, typer.Option("--invocations", "-n", help="Invocations per memory size (or function).")
]
PayloadOpt = Annotated[
    str,
    typer.Option(
        help='JSON payload, or weighted payloads: [{"weight": 3, "payload": {...}}, ...].'
    ),
]
PayloadFileOpt = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option(help="Read the payload (or weighted payloads) from this file."),
]
ParallelOpt = Annotated[
    bool,
    typer.Option(
        "--parallel/--serial",
        help="All invocations of a size at once (each in its own environment), or one by one.",
    ),
]
ColdOpt = Annotated[
    bool,
    typer.Option(help="Every invocation in a fresh environment (each one a cold start)."),
]
TrimOpt = Annotated[
    float,
    typer.Option(help="Share of the slowest and of the fastest invocations left out of the mean."),
]
ArchitectureOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(help="x86_64 | arm64 prices (default: the function's own). Runs on this CPU."),
]
BillInitOpt = Annotated[
    bool,
    typer.Option(
        help="Bill INIT on cold starts, as Lambda does since 2025-08-01 (--no-bill-init: as "
        "before, when only custom runtimes and images billed it)."
    ),
]
PricesOpt = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option(help="JSON or TOML file overriding prices (fields of emulator.cost.PriceTable)."),
]
StateDirOpt = Annotated[Path, typer.Option(help="Logs and traces go here.")]


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `lambda-emu` app."""
    app.command()(tune)
    app.command()(compare)


def tune(
    function: Annotated[str, typer.Argument(help="Function name in the manifest.")],
    memory: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option(
            "--memory",
            "-M",
            help="Memory sizes in MB, comma-separated or repeated "
            "(default 128,256,512,1024,1536,1769,3008).",
        ),
    ] = None,
    invocations: InvocationsOpt = 10,
    payload: PayloadOpt = "{}",
    payload_file: PayloadFileOpt = None,
    parallel: ParallelOpt = False,
    strategy: Annotated[str, typer.Option(help="cost | speed | balanced")] = "cost",
    balanced_weight: Annotated[
        float, typer.Option(help="Balanced strategy: 1 weighs cost only, 0 duration only.")
    ] = 0.5,
    trim: TrimOpt = 0.2,
    only_cold_starts: ColdOpt = False,
    architecture: ArchitectureOpt = None,
    bill_init: BillInitOpt = True,
    prices: PricesOpt = None,
    rate: Annotated[
        Optional[float],  # noqa: UP045
        typer.Option(help="Also price a month of this many requests per second at each size."),
    ] = None,
    out: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            help="Directory for tune.json, tune.png, tune.html (default: "
            ".lambda-emu/tune/FUNCTION)."
        ),
    ] = None,
    manifest: ManifestOpt = None,
    state_dir: StateDirOpt = Path(".lambda-emu"),
    env_vars: EnvVarsOpt = None,
    env_file: EnvFileOpt = None,
) -> None:
    """Power tuning: run FUNCTION at each memory size, then table, recommendation and chart."""
    from emulator import tuning
    from emulator.errors import LambdaEmuError
    from emulator.tuning import report as tuning_report

    sizes = _memory_sizes(memory)
    if rate is not None and rate <= 0:
        raise fail(f"--rate: must be more than 0 requests per second, got {rate:g}")
    if strategy not in tuning.STRATEGIES:
        raise fail(f"--strategy: must be cost, speed or balanced, got {strategy!r}")
    fn = _function(manifest, function, env_file, env_vars)
    workload = _workload(
        invocations,
        payload,
        payload_file,
        parallel,
        only_cold_starts,
        trim,
        architecture,
        bill_init,
        prices,
    )
    out_dir = (out if out is not None else state_dir / "tune" / function).resolve()
    try:
        with _ProgressBar() as bar:
            result = tuning.tune(
                fn,
                sizes,
                workload,
                strategy=strategy,
                balanced_weight=balanced_weight,
                state_dir=state_dir.resolve(),
                on_progress=bar.update,
                warn=warn,
            )
        out_dir.mkdir(parents=True, exist_ok=True)
        json_path = out_dir / "tune.json"
        tuning_report.write_json(result, json_path)
        html_path = tuning_report.write_chart(result, out_dir / "tune.png")
    except LambdaEmuError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"{exc.filename or out_dir}: {exc.strerror}") from None
    typer.echo(tuning_report.format_table(result))
    if rate is not None:
        typer.echo(tuning_report.format_monthly(result, rate))
    typer.echo("")
    typer.echo(f"wrote {json_path}, {out_dir / 'tune.png'}, {html_path}")


def compare(
    names: Annotated[
        list[str],
        typer.Argument(
            help="Two or more functions; each is compared with the first (B/A, ...).",
            metavar="A B [C ...]",
        ),
    ],
    memory: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option("--memory", "-M", help="Run both at this size (MB) instead of their own."),
    ] = None,
    invocations: InvocationsOpt = 10,
    payload: PayloadOpt = "{}",
    payload_file: PayloadFileOpt = None,
    parallel: ParallelOpt = False,
    trim: TrimOpt = 0.2,
    only_cold_starts: ColdOpt = False,
    architecture: ArchitectureOpt = None,
    bill_init: BillInitOpt = True,
    prices: PricesOpt = None,
    json_out: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--json", help="Also write both measurements to this JSON file."),
    ] = None,
    manifest: ManifestOpt = None,
    state_dir: StateDirOpt = Path(".lambda-emu"),
    env_vars: EnvVarsOpt = None,
    env_file: EnvFileOpt = None,
) -> None:
    """The same workload through two or more functions, side by side with B/A, C/A ratios."""
    import json
    from dataclasses import asdict, replace

    from emulator import tuning
    from emulator.errors import LambdaEmuError
    from emulator.tuning import report as tuning_report

    if len(names) < 2 or len(set(names)) < len(names):
        raise fail("compare needs two different functions")
    workload = _workload(
        invocations,
        payload,
        payload_file,
        parallel,
        only_cold_starts,
        trim,
        architecture,
        bill_init,
        prices,
    )
    functions = [_function(manifest, name, env_file, env_vars) for name in names]
    if memory is not None:
        functions = [
            fn.with_overrides(memory_mb=_memory_sizes([str(memory)])[0]) for fn in functions
        ]
    if workload.architecture is not None:
        functions = [replace(fn, architecture=workload.architecture) for fn in functions]
    try:
        with _ProgressBar() as bar:
            measured = tuning.measure(
                functions,
                workload,
                state_dir=state_dir.resolve(),
                on_progress=bar.update,
                warn=warn,
            )
        if json_out is not None:
            data = [{**asdict(m), "durations_ms": list(m.durations_ms)} for m in measured]
            json_out.write_text(json.dumps(data, indent=2) + "\n")
    except LambdaEmuError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"{exc.filename or json_out}: {exc.strerror}") from None
    typer.echo(tuning_report.format_comparison(measured, workload))


# --- parsing ---------------------------------------------------------------------------------


def _memory_sizes(values: list[str] | None) -> list[int]:
    from emulator.config import MEMORY_MAX_MB, MEMORY_MIN_MB
    from emulator.tuning import DEFAULT_MEMORY_SIZES

    if not values:
        return list(DEFAULT_MEMORY_SIZES)
    sizes: list[int] = []
    for item in ",".join(values).split(","):
        text = item.strip().removesuffix("MB").strip()
        if not text:
            continue
        try:
            size = int(text)
        except ValueError:
            raise fail(f"--memory: not a number of MB: {item.strip()!r}") from None
        if not MEMORY_MIN_MB <= size <= MEMORY_MAX_MB:
            raise fail(
                f"--memory: sizes must be from {MEMORY_MIN_MB} to {MEMORY_MAX_MB} MB, got {size}"
            )
        sizes.append(size)
    if not sizes:
        raise fail("--memory: no sizes given")
    return sizes


def _function(
    manifest: Path | None, name: str, env_file: Path | None, env_vars: Path | None
) -> FunctionConfig:
    overrides = read_overrides(env_file, env_vars)
    return function(overridden(load_functions(manifest), overrides), name)


def _workload(
    invocations: int,
    payload: str,
    payload_file: Path | None,
    parallel: bool,
    only_cold_starts: bool,
    trim: float,
    architecture: str | None,
    bill_init: bool,
    prices: Path | None,
) -> Workload:
    from emulator import cost, tuning

    if architecture not in (None, "x86_64", "arm64"):
        raise fail(f"--architecture: must be x86_64 or arm64, got {architecture!r}")
    try:
        text = payload
        if payload_file is not None:
            try:
                text = payload_file.read_text(encoding="utf-8")
            except OSError as exc:
                raise fail(f"--payload-file: {payload_file}: {exc.strerror}") from None
        return tuning.Workload(
            invocations=invocations,
            payloads=tuning.payload_choices(text),
            parallel=parallel,
            only_cold_starts=only_cold_starts,
            trim=trim,
            architecture=architecture,  # type: ignore[arg-type]  # checked above
            bill_init=bill_init,
            prices=cost.load_prices(prices) if prices is not None else cost.DEFAULT_PRICES,
        )
    except tuning.TuningError as exc:
        raise fail(str(exc)) from None
    except cost.PriceFileError as exc:
        raise fail(f"--prices: {exc}") from None


class _ProgressBar:
    """A progress bar on stderr (click's: drawn on a terminal, a single line elsewhere)."""

    def __init__(self) -> None:
        self._bar: Any = None  # typer's vendored click ProgressBar
        self._shown = 0

    def __enter__(self) -> _ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.render_finish()

    def update(self, done: int, total: int, label: str) -> None:
        if self._bar is None:
            self._bar = typer.progressbar(length=total, label=label, file=sys.stderr, width=30)
            self._bar.render_progress()
        self._bar.label = label
        self._bar.update(done - self._shown)
        self._shown = done
