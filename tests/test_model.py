"""The offline cold/warm model (emulator/model): rules of the simulator on hand-made arrivals,
closed-form agreement with fixed seeds and loose statistical tolerances, inputs and the CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from emulator import model
from emulator.cli import app
from emulator.model.distributions import (
    Empirical,
    Exponential,
    Fixed,
    LogNormal,
    ModelInputError,
    Uniform,
    parse_distribution,
    parse_seconds,
)
from emulator.model.keepalive import (
    FixedKeepAlive,
    HybridHistogramPolicy,
    RandomKeepAlive,
    ReaperKeepAlive,
    parse_keep_alive,
)
from emulator.model.results import summarise, timeline
from emulator.model.simulator import COLD, PROVISIONED, THROTTLED, WARM, Limits, simulate
from emulator.model.traffic import (
    MMPP,
    Deterministic,
    Diurnal,
    Poisson,
    parse_rate,
    parse_traffic,
    read_azure_minute_counts,
)


def sim(
    arrivals: list[float],
    service: float | list[float],
    keep_alive: float = 600.0,
    *,
    init: float = 0.0,
    limits: Limits | None = None,
    policy: model.simulator.KeepAlivePolicy | None = None,
) -> model.Run:
    times = np.asarray(arrivals, dtype=np.float64)
    n = len(times)
    warm = np.asarray(service if isinstance(service, list) else [service] * n, dtype=np.float64)
    return simulate(
        times,
        warm,
        np.full(n, init),
        policy or FixedKeepAlive(keep_alive),
        limits=limits,
    )


# --- the rules -------------------------------------------------------------------------------


def test_reuse_within_keep_alive_and_expiry_after_it() -> None:
    run = sim([0.0, 1.0, 2.0, 20.0], 0.1, keep_alive=10.0, init=0.5)
    assert run.kind.tolist() == [COLD, WARM, WARM, COLD]
    assert run.init_s.tolist() == [0.5, 0.0, 0.0, 0.5]
    assert run.busy_s.tolist() == pytest.approx([0.6, 0.1, 0.1, 0.6])


def test_one_environment_per_concurrent_request() -> None:
    run = sim([0.0, 0.1, 0.2, 5.0, 5.1, 5.2], 1.0, keep_alive=60.0)
    assert run.kind.tolist() == [COLD, COLD, COLD, WARM, WARM, WARM]
    summary = summarise(run)
    assert summary.max_environments == 3
    assert summary.max_concurrency == 3


def test_most_recently_used_idle_environment_is_reused() -> None:
    # env A finishes at 1, env B at 2; at 3 B (the most recent) serves; A expires at 1 + 2.5
    run = sim([0.0, 0.5, 3.0, 4.0], [1.0, 1.5, 0.1, 0.1], keep_alive=2.5)
    assert run.kind.tolist() == [COLD, COLD, WARM, WARM]
    assert run.deaths.tolist()[0] == pytest.approx(3.5)


def test_simfaas_reuse_takes_the_newest_environment() -> None:
    # A: created at 0, free at 3; B: created at 1, free at 2. At 4 Lambda reuses A (most
    # recently used), SimFaaS B (most recently created); the other is reclaimed 2.5 s after
    # it was freed.
    args = (np.array([0.0, 1.0, 4.0]), np.array([3.0, 1.0, 0.1]), np.zeros(3), FixedKeepAlive(2.5))
    recent = simulate(*args)
    newest = simulate(*args, reuse="newest")
    assert recent.kind.tolist() == newest.kind.tolist() == [COLD, COLD, WARM]
    assert recent.deaths.tolist()[0] == pytest.approx(4.5)  # B
    assert newest.deaths.tolist()[0] == pytest.approx(5.5)  # A


@pytest.mark.parametrize("reuse", ["recent", "newest"])
@pytest.mark.parametrize("policy", [FixedKeepAlive(30.0), RandomKeepAlive(20.0, 40.0)])
def test_every_loop_applies_the_same_limits(
    reuse: model.simulator.Reuse, policy: FixedKeepAlive | RandomKeepAlive
) -> None:
    arrivals = np.array([0.0, 0.0, 0.0, 0.0, 2.0])
    run = simulate(
        arrivals,
        np.ones(5),
        np.zeros(5),
        policy,
        limits=Limits(provisioned=1, concurrency=3),
        reuse=reuse,
    )
    assert run.kind.tolist() == [PROVISIONED, COLD, COLD, THROTTLED, PROVISIONED]


def test_reserved_concurrency_throttles() -> None:
    run = sim([0.0, 0.0, 0.0, 2.0], 1.0, limits=Limits(concurrency=2))
    assert run.kind.tolist() == [COLD, COLD, THROTTLED, WARM]
    assert summarise(run).throttles == 1


def test_scaling_rate_is_1000_new_environments_per_10_s() -> None:
    run = sim([0.0] * 1500 + [5.0] * 600, 100.0)
    kinds = run.kind.tolist()
    assert kinds[:1500].count(COLD) == 1000
    assert kinds[:1500].count(THROTTLED) == 500
    # 5 s later the bucket has refilled by 500
    assert kinds[1500:].count(COLD) == 500
    unlimited = sim([0.0] * 1500, 100.0, limits=Limits(scale_per_s=None))
    assert (unlimited.kind == COLD).all()


def test_provisioned_first_then_spill_over_to_on_demand() -> None:
    run = sim([0.0, 0.1, 0.2, 5.0], 1.0, init=0.3, limits=Limits(provisioned=2))
    assert run.kind.tolist() == [PROVISIONED, PROVISIONED, COLD, PROVISIONED]
    summary = summarise(run)
    assert summary.provisioned_invocations == 3
    assert summary.cold_starts == 1
    assert summary.max_environments == 3


def test_random_keep_alive_stays_within_its_range() -> None:
    arrivals = np.arange(0.0, 2000.0, 37.0)
    run = sim(arrivals.tolist(), 0.01, policy=RandomKeepAlive(20.0, 60.0))
    kinds = run.kind[1:]
    assert (kinds == COLD).any()
    assert (kinds == WARM).any()  # a 37 s gap survives some draws, not others


def test_reaper_reclaims_on_its_ticks() -> None:
    policy = parse_keep_alive("reaper:1s,1s")
    assert policy == ReaperKeepAlive(1.0, 1.0)
    run = simulate(
        np.arange(0.0, 200.0, 1.7),
        np.full(118, 0.1),
        np.zeros(118),
        policy,
        rng=np.random.default_rng(4),
    )
    # each reclaim is 1 to 2 s after its environment was last freed
    freed = np.arange(0.0, 200.0, 1.7) + 0.1
    last_freed = freed[np.searchsorted(freed, run.deaths - 1.0) - 1]
    assert ((run.deaths - last_freed > 1.0) & (run.deaths - last_freed <= 2.0 + 1e-9)).all()
    # 1.6 s idle gaps: some survive, some do not, depending on where the tick falls
    assert 1 < (run.kind == COLD).sum() < 118
    phases = np.round(run.deaths % 1.0, 6)
    assert len(set(phases.tolist())) == 1  # every reclaim on the same tick phase
    with pytest.raises(ModelInputError):
        simulate(np.zeros(1), np.ones(1), np.zeros(1), policy, reuse="newest")


def test_hybrid_policy_learns_a_periodic_function() -> None:
    # one invocation every 10 minutes for a day: a fixed 5-minute keep-alive is always cold;
    # the histogram policy pre-warms just before the next invocation
    arrivals = np.arange(0.0, 86400.0, 600.0).tolist()
    fixed = summarise(sim(arrivals, 0.1, keep_alive=300.0))
    hybrid_run = sim(arrivals, 0.1, policy=HybridHistogramPolicy())
    hybrid = summarise(hybrid_run)
    standard = summarise(sim(arrivals, 0.1, keep_alive=4 * 3600.0))
    assert fixed.cold_start_probability == 1.0
    assert hybrid.cold_starts <= 2
    # it stays loaded only around the expected arrival, not for the whole 4-hour window
    assert hybrid.idle_environment_s < 0.5 * standard.idle_environment_s
    assert hybrid.mean_environments < 0.5


def test_cost_goes_through_the_cost_model() -> None:
    from emulator import cost

    arrivals = np.arange(0.0, 1000.0, 1.0).tolist()  # 1,000 invocations over 1,000 s
    run = sim(arrivals, 0.0995, keep_alive=600.0, init=0.2)  # 99.5 ms: billed 100 ms
    summary = summarise(run, memory_mb=512)
    # the first is cold and bills its init too: 300 ms
    expected = cost.cost(1000, (999 * 100 + 300) / 1000, 512)
    assert summary.cost_usd == pytest.approx(expected.total_usd)
    month = cost.cost(1000 * cost.SECONDS_PER_MONTH / run.horizon_s, (999 * 100 + 300) / 1000, 512)
    assert summary.monthly_cost_usd == pytest.approx(month.total_usd)
    provisioned = summarise(sim(arrivals, 0.0995, limits=Limits(provisioned=1)), memory_mb=512)
    allocated = 1 * 512 / 1024 * cost.SECONDS_PER_MONTH
    assert provisioned.cost_breakdown["provisioned"] == pytest.approx(
        cost.cost(1, 100, 512, provisioned_allocated_gb_s=allocated).provisioned_usd
    )
    assert provisioned.cold_starts == 0


def test_timeline_counts_every_cold_start() -> None:
    run = sim(np.arange(0.0, 100.0, 0.5).tolist(), 0.2, keep_alive=0.1)
    series = timeline(run, bins=10)
    assert series["cold_starts"].sum() == (run.kind == COLD).sum()
    assert series["environments"].max() <= 1
    # bin means integrate back to the run's totals
    summary = summarise(run)
    width = series["t"][1] - series["t"][0]
    assert series["environments"].sum() * width == pytest.approx(summary.environment_s)
    assert series["concurrency"].mean() == pytest.approx(summary.mean_concurrency)


# --- closed forms ------------------------------------------------------------------------------


def erlang_b(servers: int, load: float) -> float:
    b = 1.0
    for k in range(1, servers + 1):
        b = load * b / (k + load * b)
    return b


def test_throttles_follow_erlang_b() -> None:
    # M/G/c/c: with c environments allowed and no expiry, a request is throttled exactly when
    # all c are busy; the blocking probability is Erlang B, whatever the service distribution.
    rng = np.random.default_rng(7)
    rate, mean, c, n = 8.0, 0.5, 5, 200_000
    arrivals = np.cumsum(rng.exponential(1 / rate, n))
    service = rng.lognormal(math.log(mean) - 0.125, 0.5, n)
    run = simulate(
        arrivals, service, np.zeros(n), FixedKeepAlive(1e9), limits=Limits(concurrency=c)
    )
    blocked = (run.kind == THROTTLED).mean()
    assert blocked == pytest.approx(erlang_b(c, rate * mean), rel=0.05)


def test_short_service_cold_probability_is_exp_minus_rate_times_keep_alive() -> None:
    # with negligible service, one environment; an arrival is cold iff the gap exceeds K
    rng = np.random.default_rng(3)
    rate, keep, n = 0.2, 5.0, 200_000
    arrivals = np.cumsum(rng.exponential(1 / rate, n))
    run = simulate(arrivals, np.full(n, 1e-6), np.zeros(n), FixedKeepAlive(keep))
    summary = summarise(run)
    assert summary.cold_start_probability == pytest.approx(math.exp(-rate * keep), rel=0.03)
    # the environment is live iff the last arrival was within K
    assert summary.mean_environments == pytest.approx(1 - math.exp(-rate * keep), rel=0.03)


def test_mean_concurrency_is_littles_law() -> None:
    rng = np.random.default_rng(5)
    rate, mean, n = 20.0, 0.3, 200_000
    arrivals = np.cumsum(rng.exponential(1 / rate, n))
    run = simulate(arrivals, rng.exponential(mean, n), np.zeros(n), FixedKeepAlive(60.0))
    assert summarise(run).mean_concurrency == pytest.approx(rate * mean, rel=0.02)


# --- inputs ------------------------------------------------------------------------------------


def test_durations_and_rates_parse() -> None:
    assert parse_seconds("120ms") == pytest.approx(0.12)
    assert parse_seconds("10m") == 600.0
    assert parse_seconds("2h") == 7200.0
    assert parse_seconds("1.5") == 1.5
    assert parse_rate("20/s") == 20.0
    assert parse_rate("120/m") == 2.0
    with pytest.raises(ModelInputError):
        parse_seconds("soon")
    with pytest.raises(ModelInputError):
        parse_rate("fast")


def test_distributions_parse_and_sample() -> None:
    rng = np.random.default_rng(1)
    assert parse_distribution("fixed:120ms") == Fixed(0.12)
    assert parse_distribution("250ms") == Fixed(0.25)
    assert parse_distribution("exp:100ms") == Exponential(0.1)
    assert parse_distribution("lognormal:100ms,0.5") == LogNormal(0.1, 0.5)
    assert parse_distribution("uniform:1s,2s") == Uniform(1.0, 2.0)
    for dist in (Exponential(0.1), LogNormal(0.1, 0.5), Uniform(1.0, 2.0)):
        assert dist.sample(rng, 100_000).mean() == pytest.approx(dist.mean, rel=0.02)
    assert set(Empirical((0.1, 0.2)).sample(rng, 100).tolist()) == {0.1, 0.2}
    with pytest.raises(ModelInputError):
        parse_distribution("gamma:1,2")


def test_keep_alive_policies_parse() -> None:
    assert parse_keep_alive("10m") == FixedKeepAlive(600.0)
    assert parse_keep_alive("fixed:30s") == FixedKeepAlive(30.0)
    assert parse_keep_alive("range:5m,7m") == RandomKeepAlive(300.0, 420.0)
    assert parse_keep_alive("hybrid") == HybridHistogramPolicy()
    assert parse_keep_alive("hybrid:2h").range_s == 7200.0  # type: ignore[union-attr]
    with pytest.raises(ModelInputError):
        parse_keep_alive("range:7m,5m")


def test_traffic_processes() -> None:
    rng = np.random.default_rng(2)
    assert parse_traffic("poisson:20/s") == Poisson(20.0)
    assert len(Poisson(20.0).arrivals(rng, 1000.0)) == pytest.approx(20_000, rel=0.03)
    assert len(Deterministic(4.0).arrivals(rng, 10.0)) == 40
    onoff = parse_traffic("onoff:50/s,30s,90s")
    assert onoff == MMPP((50.0, 0.0), (30.0, 90.0))
    # on a quarter of the time on average
    assert len(onoff.arrivals(rng, 100_000.0)) == pytest.approx(50 * 25_000, rel=0.1)
    diurnal = Diurnal(10.0, 0.8, period_s=1000.0)
    times = diurnal.arrivals(rng, 10_000.0)
    assert len(times) == pytest.approx(100_000, rel=0.03)
    phase = (times % 1000.0) / 1000.0
    assert ((phase > 0.4) & (phase < 0.6)).sum() > 5 * ((phase < 0.1) | (phase > 0.9)).sum() / 2
    for times in (onoff.arrivals(rng, 1000.0), diurnal.arrivals(rng, 1000.0)):
        assert (np.diff(times) >= 0).all()
    with pytest.raises(ModelInputError):
        parse_traffic("bursty")


def test_azure_per_minute_counts(tmp_path: Path) -> None:
    csv = tmp_path / "invocations_per_function_md.anon.d01.csv"
    minutes = ",".join(str(i) for i in range(1, 1441))
    rows = [
        "a,b,f1,http," + ",".join("2" if i % 10 == 0 else "0" for i in range(1440)),
        "a,b,f2,timer," + ",".join("1" for _ in range(1440)),
    ]
    csv.write_text(f"HashOwner,HashApp,HashFunction,Trigger,{minutes}\n" + "\n".join(rows) + "\n")
    one = read_azure_minute_counts(csv, "f1")
    assert sum(one.counts) == 288 and one.span_s == 86400.0
    assert sum(read_azure_minute_counts(csv, "1").counts) == 1440
    assert sum(read_azure_minute_counts(csv).counts) == 288 + 1440
    times = parse_traffic(f"azure:{csv},f1").arrivals(np.random.default_rng(0), 86400.0)
    assert len(times) == 288
    assert set((times[::2] // 60).astype(int) % 10) == {0}


def test_locust_stats_history(tmp_path: Path) -> None:
    history = tmp_path / "run_stats_history.csv"
    header = "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,Total Request Count"
    rows = [header]
    total = 0
    for second in range(60):
        total += 10 if second < 30 else 2
        rows.append(f"{1_795_000_000 + second},5,POST,invoke,1.0,0.0,12,{total - 1}")
        rows.append(f"{1_795_000_000 + second},5,,Aggregated,1.0,0.0,12,{total}")
    history.write_text("\n".join(rows) + "\n")
    traffic = parse_traffic(f"locust:{history}")
    assert traffic.span_s == 60.0  # type: ignore[union-attr]
    times = traffic.arrivals(np.random.default_rng(0), 60.0)
    assert len(times) == 30 * 10 + 30 * 2
    assert ((times >= 0) & (times <= 60)).all()
    assert (times < 30).sum() == 300


def write_trace(path: Path, n: int = 200, rate: float = 2.0, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    t0 = 1_795_000_000.0
    times = t0 + np.cumsum(rng.exponential(1 / rate, n))
    lines = []
    for i, t in enumerate(times):
        cold = i % 20 == 0
        lines.append(
            json.dumps(
                {
                    "v": 1,
                    "request_id": f"r{i}",
                    "function": "hello",
                    "environment_id": "e",
                    "invocation_type": "RequestResponse",
                    "init_type": "on-demand",
                    "memory_mb": 256,
                    "cold": cold,
                    "init_ms": 150.0 if cold else None,
                    "duration_ms": 20.0 + (i % 5),
                    "billed_ms": 21,
                    "max_memory_mb": 40,
                    "cpu_user_ms": 1.0,
                    "cpu_system_ms": 0.0,
                    "accepted_at": float(t),
                    "start": float(t),
                    "end": float(t) + 0.02,
                    "outcome": "success",
                    "error_type": None,
                }
            )
        )
    path.write_text("\n".join(lines) + "\n")
    return path


def test_trace_fit(tmp_path: Path) -> None:
    fit = model.fit_trace(model.read_trace(write_trace(tmp_path / "t.jsonl")))
    assert fit.function == "hello" and fit.memory_mb == 256
    assert fit.cold_starts == 10
    assert fit.init is not None and set(fit.init.values) == {0.15}
    assert min(fit.duration.values) == pytest.approx(0.02)
    with pytest.raises(ModelInputError):
        model.fit_trace(model.read_trace(tmp_path / "t.jsonl"), function="other")
    with pytest.raises(ModelInputError, match="the trace has 256 MB"):
        model.fit_trace(model.read_trace(tmp_path / "t.jsonl"), memory_mb=1024)


# --- the CLI -----------------------------------------------------------------------------------


def test_cli_on_a_trace_writes_json_and_chart(tmp_path: Path) -> None:
    trace = write_trace(tmp_path / "t.jsonl")
    out, png = tmp_path / "m.json", tmp_path / "m.png"
    result = CliRunner().invoke(
        app,
        [
            "model",
            str(trace),
            "--traffic",
            "poisson:2/s",
            "--duration",
            "1h",
            "--keep-alive",
            "10s",
            "--json",
            str(out),
            "--chart",
            str(png),
            "--recommend",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "cold starts" in result.output and "recommend" in result.output
    doc = json.loads(out.read_text())
    summary = doc["summary"]
    assert summary["invocations"] == pytest.approx(7200, rel=0.05)
    # gaps over 10 s are rare (e^-20), but a second concurrent request (~4 % of arrivals, at
    # ~170 ms per cold one and ~22 ms per warm one) finds the second environment reclaimed
    assert 0.005 < summary["cold_start_probability"] < 0.05
    assert doc["recommendation"]["provisioned"] >= 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_parametric_json_to_stdout() -> None:
    result = CliRunner().invoke(
        app,
        [
            "model",
            "--service",
            "fixed:100ms",
            "--init",
            "300ms",
            "--traffic",
            "deterministic:1/s",
            "--duration",
            "10m",
            "--keep-alive",
            "0.5s",
            "--no-recommend",
            "--json",
            "-",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)["summary"]
    assert summary["cold_start_probability"] == 1.0  # every 1 s gap outlives 0.5 s
    assert summary["init_ms_mean"] == pytest.approx(300.0)


def test_cli_azure_day_with_the_hybrid_policy(tmp_path: Path) -> None:
    csv = tmp_path / "invocations_per_function_md.anon.d01.csv"
    minutes = ",".join(str(i) for i in range(1, 1441))
    every_20_min = ",".join("1" if i % 20 == 0 else "0" for i in range(1440))
    csv.write_text(
        f"HashOwner,HashApp,HashFunction,Trigger,{minutes}\na,b,f1,timer,{every_20_min}\n"
    )
    docs = {}
    for policy in ("fixed:10m", "hybrid"):
        result = CliRunner().invoke(
            app,
            [
                "model",
                "--service",
                "fixed:100ms",
                "--init",
                "fixed:300ms",
                "--traffic",
                f"azure:{csv},f1",
                "--keep-alive",
                policy,
                "--no-recommend",
                "--json",
                "-",
            ],
        )
        assert result.exit_code == 0, result.output
        docs[policy] = json.loads(result.output)["summary"]
    assert docs["fixed:10m"]["invocations"] == 72
    assert docs["fixed:10m"]["horizon_s"] == 86400.0
    # every ~20 minutes outlives a 10-minute keep-alive; the histogram learns the period
    assert docs["fixed:10m"]["cold_start_probability"] > 0.9
    assert docs["hybrid"]["cold_starts"] < 0.5 * docs["fixed:10m"]["cold_starts"]


def test_azure_functions_each_get_their_own_environments(tmp_path: Path) -> None:
    csv = tmp_path / "invocations_per_function_md.anon.d01.csv"
    minutes = ",".join(str(i) for i in range(1, 1441))
    every_30_min = ",".join("1" if i % 30 == 0 else "0" for i in range(1440))
    every_minute = ",".join("1" for _ in range(1440))
    csv.write_text(
        f"HashOwner,HashApp,HashFunction,Trigger,{minutes}\n"
        f"a,b,f1,timer,{every_30_min}\na,b,f2,http,{every_minute}\n"
    )
    service = model.ServiceModel(Fixed(0.1), Fixed(0.3))
    policy = FixedKeepAlive(600.0)
    many = parse_traffic(f"azure:{csv}")
    one = parse_traffic(f"azure:{csv},sum")
    separate = summarise(model.run_traffic(many, service, 86400.0, policy, Limits()))
    together = summarise(model.run_traffic(one, service, 86400.0, policy, Limits()))
    assert separate.invocations == together.invocations == 48 + 1440
    # alone, f1 finds its environment reclaimed every time; summed, f2's keeps it warm
    assert separate.cold_starts >= 48
    assert together.cold_starts <= 3
    assert separate.mean_environments > together.mean_environments
    result = CliRunner().invoke(
        app,
        ["model", "--service", "100ms", "--init", "300ms", "--traffic", f"azure:{csv}"],
    )
    assert result.exit_code == 0, result.output
    assert "2 functions" in result.output and "provisioned concurrency" not in result.output


def test_cli_explains_bad_input() -> None:
    result = CliRunner().invoke(
        app, ["model", "--service", "exp:1s", "--init", "1s", "--traffic", "x"]
    )
    assert result.exit_code == 2
    assert "not a traffic description" in result.output


def test_package_exports_resolve() -> None:
    for name in model.__all__:
        assert getattr(model, name) is not None
