"""lambda-emu model: the offline cold/warm model (issue 7, docs/model.md).

    lambda-emu model .lambda-emu/traces/invocations.jsonl --traffic poisson:20/s --duration 1d \\
        --keep-alive 10m --provisioned 5 --chart .lambda-emu/model.png --json .lambda-emu/model.json
    lambda-emu model --service exp:120ms --init lognormal:300ms,0.3 --traffic diurnal:50/s,0.8

Service and init times come from the trace (empirical, one function at one memory size) unless
given as distributions; traffic defaults to a replay of the trace's own arrivals.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `lambda-emu` app."""
    app.command()(model)


def model(
    traces: Annotated[
        Optional[list[Path]],  # noqa: UP045 - typer needs Optional at runtime on 3.11
        typer.Argument(help="Trace files (JSONL) written by serve or load."),
    ] = None,
    traffic: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            help="poisson:20/s | deterministic:5/s | onoff:50/s,30s,90s | "
            "mmpp:50/s,2/s,60s,300s | diurnal:20/s,0.8 | replay[:PATH] | "
            "locust:PREFIX_stats_history.csv | azure:CSV[,ROW|sum] "
            "(default: replay of the trace).",
        ),
    ] = None,
    duration: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Simulated time, e.g. 1h, 1d (default: the replay's span, else 1h)."),
    ] = None,
    keep_alive: Annotated[
        str,
        typer.Option(
            help="fixed:10m | range:5m,7m | reaper:10m,1s | hybrid (Shahrad et al. 2020)."
        ),
    ] = "fixed:10m",
    provisioned: Annotated[int, typer.Option(help="Provisioned concurrency.")] = 0,
    reserved: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(help="Reserved concurrency (default: the account's limit)."),
    ] = None,
    account_concurrency: Annotated[int, typer.Option(help="Account concurrency limit.")] = 1000,
    scale_limit: Annotated[
        bool, typer.Option(help="Lambda's 1,000 new environments per 10 s per function.")
    ] = True,
    function: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Function of the trace (default: the most invoked)."),
    ] = None,
    memory: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(help="Memory size (MB): the trace's records of it, and the price."),
    ] = None,
    service: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Duration: fixed:D | exp:MEAN | lognormal:MEDIAN,SIGMA | uniform:A,B."),
    ] = None,
    init: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Init Duration, same forms (default: the trace's cold starts)."),
    ] = None,
    architecture: Annotated[str, typer.Option(help="x86_64 | arm64 (price).")] = "x86_64",
    target_cold: Annotated[
        float, typer.Option(help="Cold-start probability the recommendation aims at.")
    ] = 0.01,
    recommend: Annotated[
        bool,
        typer.Option(help="Recommend a provisioned concurrency, and say why (re-runs the model)."),
    ] = False,
    warmup: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            help="Simulate this long first and leave it out of the figures, e.g. 10m "
            "(the run starts with no environment)."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    runs: Annotated[
        int,
        typer.Option(help="Repeat with this many seeds: every figure's mean, 95 % CI and spread."),
    ] = 1,
    json_out: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--json", help="Write the figures as JSON here ('-': stdout, no table)."),
    ] = None,
    chart: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="Write a PNG of environments and cold starts over time here."),
    ] = None,
) -> None:
    """Predict cold starts, latency, concurrency and cost offline, from traces."""
    from emulator.config import Architecture
    from emulator.model import (
        Limits,
        ModelInputError,
        ServiceModel,
        draw,
        fit_trace,
        parse_distribution,
        parse_keep_alive,
        parse_seconds,
        parse_traffic,
        read_trace,
        recommend_provisioned,
        replicate,
        run_traffic,
        summarise,
    )
    from emulator.model.distributions import Distribution
    from emulator.model.render import as_json, table
    from emulator.model.render import chart as draw_chart
    from emulator.model.results import cut_warmup
    from emulator.model.traffic import BinnedCounts, ManyFunctions, MinuteCounts, Replay

    if architecture not in ("x86_64", "arm64"):
        raise typer.BadParameter("x86_64 or arm64", param_hint="--architecture")
    arch: Architecture = "arm64" if architecture == "arm64" else "x86_64"
    try:
        fit = None
        if traces:
            fit = fit_trace(read_trace(*traces), function=function, memory_mb=memory)
        duration_dist: Distribution
        if service is not None:
            duration_dist = parse_distribution(service)
        elif fit is not None:
            duration_dist = fit.duration
        else:
            raise ModelInputError("no trace: give --service (and --init)")
        init_dist: Distribution
        if init is not None:
            init_dist = parse_distribution(init)
        elif fit is not None and fit.init is not None:
            init_dist = fit.init
        else:
            raise ModelInputError("the trace has no cold start to fit Init Duration: give --init")
        memory_mb = memory or (fit.memory_mb if fit else 128)
        trace_path = traces[0] if traces else None
        spec = traffic or ("replay" if trace_path else "poisson:1/s")
        arrivals = parse_traffic(spec, trace=trace_path, function=fit.function if fit else None)
        if duration is not None:
            horizon = parse_seconds(duration)
        elif isinstance(arrivals, Replay | MinuteCounts | BinnedCounts | ManyFunctions):
            horizon = arrivals.span_s
        else:
            horizon = 3600.0
        warmup_s = parse_seconds(warmup) if warmup is not None else 0.0
        if warmup_s >= horizon:
            raise ModelInputError(
                f"--warmup {warmup} leaves nothing of the {horizon:g} s simulated"
            )
        policy = parse_keep_alive(keep_alive)
        concurrency = min(reserved, account_concurrency) if reserved is not None else None
        limits = Limits(
            provisioned=provisioned,
            concurrency=concurrency if concurrency is not None else account_concurrency,
            scale_per_s=Limits().scale_per_s if scale_limit else None,
        )
        service_model = ServiceModel(
            duration_dist, init_dist, memory_mb, fit.function if fit else ""
        )
        result = run_traffic(arrivals, service_model, horizon, policy, limits, seed)
        summary = summarise(result, memory_mb=memory_mb, architecture=arch, warmup_s=warmup_s)
        spread = None
        if runs > 1:
            spread = replicate(
                arrivals,
                service_model,
                horizon,
                policy,
                limits,
                runs=runs,
                seed=seed,
                memory_mb=memory_mb,
                architecture=arch,
                warmup_s=warmup_s,
            )
        rec = None
        if recommend and not isinstance(arrivals, ManyFunctions):
            rec = recommend_provisioned(
                draw(arrivals, service_model, horizon, seed),
                policy,
                limits,
                target=target_cold,
                memory_mb=memory_mb,
                architecture=arch,
                seed=seed,
                warmup_s=warmup_s,
            )
    except ModelInputError as exc:
        typer.echo(f"lambda-emu model: {exc}", err=True)
        raise typer.Exit(2) from exc
    inputs = {
        "function": (fit.function if fit else "(parametric)") + f", {memory_mb} MB, {arch}",
        "traffic": arrivals.describe(),
        "duration": duration_dist.describe(),
        "init": init_dist.describe(),
        "keep-alive": policy.describe(),
        "limits": (
            f"provisioned {provisioned}, concurrency {limits.concurrency}, scaling "
            + ("1,000 per 10 s" if scale_limit else "unlimited")
        ),
    }
    if isinstance(arrivals, ManyFunctions):
        inputs["functions"] = (
            f"{len(arrivals.functions)} simulated one by one (own environments and limits, "
            "provisioned per function); figures are their sum; no recommendation"
        )
    if fit is not None:
        inputs["trace"] = (
            f"{len(fit.records)} invocations, {fit.cold_starts} cold "
            f"({', '.join(str(p) for p in traces or [])})"
        )
    document = as_json(summary, inputs, rec, spread, result)
    if json_out is not None and str(json_out) == "-":
        json.dump(document, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        typer.echo(table(summary, inputs, rec, spread))
        if json_out is not None:
            json_out.parent.mkdir(parents=True, exist_ok=True)
            json_out.write_text(json.dumps(document, indent=2) + "\n")
            typer.echo(f"\nJSON: {json_out}")
    if chart is not None:
        title = f"{inputs['function']}: {inputs['traffic']}, keep-alive {inputs['keep-alive']}"
        draw_chart(cut_warmup(result, warmup_s), chart, title)
        if json_out is None or str(json_out) != "-":
            typer.echo(f"chart: {chart}")
