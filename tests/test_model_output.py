"""The offline model's output options (issue 21): the function picked, rates per duration,
the recommendation on request with its reason, the warm-up cut, replications with confidence
intervals, percentiles of levels, the timeline and lifespan, the period's bill, chart labels."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from emulator import model
from emulator.cli import app
from emulator.cost import DEFAULT_PRICES, provisioned_billed_s
from emulator.model.distributions import Fixed, ModelInputError
from emulator.model.keepalive import FixedKeepAlive
from emulator.model.predict import Candidate, _choose, replicate, t975
from emulator.model.render import chart
from emulator.model.results import summarise
from emulator.model.simulator import Limits, Run, simulate
from emulator.model.traces import ServiceModel, is_tuning_function
from emulator.model.traffic import Poisson, parse_rate


def _record(function: str, memory_mb: int, i: int) -> str:
    return json.dumps(
        {
            "v": 1,
            "request_id": f"{function}{i}",
            "function": function,
            "environment_id": "e",
            "invocation_type": "RequestResponse",
            "init_type": "on-demand",
            "memory_mb": memory_mb,
            "cold": i == 0,
            "init_ms": 100.0 if i == 0 else None,
            "duration_ms": 10.0,
            "billed_ms": 10,
            "max_memory_mb": 30,
            "cpu_user_ms": 1.0,
            "cpu_system_ms": 0.0,
            "accepted_at": 1_795_000_000.0 + i,
            "start": 1_795_000_000.0 + i,
            "end": 1_795_000_000.01 + i,
            "outcome": "success",
            "error_type": None,
        }
    )


def _fixed_run(
    every_s: float, busy_s: float, init_s: float, keep_s: float, horizon_s: float
) -> Run:
    arrivals = np.arange(0.0, horizon_s, every_s)
    n = len(arrivals)
    return simulate(
        arrivals,
        np.full(n, busy_s),
        np.full(n, init_s),
        FixedKeepAlive(keep_s),
        horizon_s=horizon_s,
    )


def _cli(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(app, ["model", *args, "--json", "-"])
    assert result.exit_code == 0, result.output
    doc: dict[str, object] = json.loads(result.output)
    return doc


PARAMETRIC = ("--service", "fixed:100ms", "--init", "fixed:300ms")


def test_without_function_the_users_function_is_picked_not_a_tuning_copy(
    tmp_path: Path,
) -> None:
    lines = [_record("cpu_python", 1024, i) for i in range(5)]
    lines += [_record("cpu_python-128", 128, i) for i in range(50)]
    lines += [_record("cpu_python-1769", 1769, i) for i in range(50)]
    (tmp_path / "t.jsonl").write_text("\n".join(lines) + "\n")
    fit = model.fit_trace(model.read_trace(tmp_path / "t.jsonl"))
    assert (fit.function, fit.memory_mb) == ("cpu_python", 1024)
    # a trace of tuning runs only: the most invoked of them
    (tmp_path / "tune.jsonl").write_text("\n".join(lines[5:]) + "\n")
    assert model.fit_trace(model.read_trace(tmp_path / "tune.jsonl")).function == ("cpu_python-128")
    assert is_tuning_function("cpu_python-128", 128)
    assert not is_tuning_function("api-2", 128)  # a user's name that merely ends in a number


def test_rates_accept_one_per_duration() -> None:
    assert parse_rate("1/537s") == pytest.approx(1 / 537)
    assert parse_rate("3/5m") == pytest.approx(3 / 300)
    assert parse_rate("1/2h") == pytest.approx(1 / 7200)
    assert parse_rate("20/s") == 20 and parse_rate("60/m") == 1 and parse_rate("7") == 7
    with pytest.raises(ModelInputError, match="1/537s"):
        parse_rate("1/fortnight")
    doc = _cli(*PARAMETRIC, "--traffic", "poisson:1/10s", "--duration", "1h")
    assert "Poisson 0.1/s" in str(doc["inputs"])


def test_recommendation_runs_only_when_asked() -> None:
    doc = _cli(*PARAMETRIC, "--traffic", "poisson:5/s", "--duration", "10m")
    assert "recommendation" not in doc
    asked = _cli(*PARAMETRIC, "--traffic", "poisson:5/s", "--duration", "10m", "--recommend")
    recommendation = asked["recommendation"]
    assert isinstance(recommendation, dict) and recommendation["reason"]


def test_recommendation_says_whether_cost_or_the_target_chose_it() -> None:
    def candidates(*rows: tuple[int, float, float]) -> tuple[Candidate, ...]:
        return tuple(Candidate(n, p, 0, usd) for n, p, usd in rows)

    # on demand meets the target and is cheapest: provision nothing, and say so
    rec = _choose(candidates((0, 0.00009, 10.0), (6, 0.0, 40.0)), 0.01)
    assert rec.provisioned == 0 and "already meets the target" in rec.reason
    # on demand meets the target, yet 6 provisioned is cheaper: the reason is cost
    rec = _choose(candidates((0, 0.00009, 50.0), (6, 0.0, 40.0)), 0.01)
    assert rec.provisioned == 6 and rec.reason.startswith("cost:") and "$10.00" in rec.reason
    # on demand misses the target: the cheapest count that meets it, for the target
    rec = _choose(candidates((0, 0.05, 10.0), (3, 0.008, 30.0), (6, 0.0, 40.0)), 0.01)
    assert rec.provisioned == 3 and rec.reason.startswith("cold-start target")
    # nothing meets it
    rec = _choose(candidates((0, 0.05, 10.0), (3, 0.02, 30.0)), 0.01)
    assert (rec.provisioned, rec.met) == (3, False) and "no count reaches" in rec.reason


def test_warmup_cut_leaves_the_first_cold_starts_out() -> None:
    # one arrival a second, 100 ms each, 10-minute keep-alive: one cold start, at t = 0
    run = _fixed_run(1.0, 0.1, 0.3, 600.0, 100.0)
    whole = summarise(run)
    cut = summarise(run, warmup_s=10.0)
    assert (whole.cold_starts, whole.invocations) == (1, 100)
    assert (cut.cold_starts, cut.invocations, cut.horizon_s, cut.warmup_s) == (0, 90, 90.0, 10.0)
    assert cut.mean_environments == pytest.approx(1.0)  # the environment lives on past the cut
    doc = _cli(*PARAMETRIC, "--traffic", "deterministic:1/s", "--duration", "100s",
               "--warmup", "10s")  # fmt: skip
    summary = doc["summary"]
    assert isinstance(summary, dict)
    assert (summary["cold_starts"], summary["invocations"]) == (0, 90)
    result = CliRunner().invoke(app, ["model", *PARAMETRIC, "--duration", "1m", "--warmup", "2m"])
    assert result.exit_code == 2 and "leaves nothing" in result.output


def test_several_seeds_give_every_figure_a_mean_and_a_confidence_interval() -> None:
    assert t975(1) == pytest.approx(12.706) and t975(9) == pytest.approx(2.262)
    assert t975(1000) == pytest.approx(1.962, abs=0.001)
    service = ServiceModel(Fixed(0.1), Fixed(0.3))
    spread = replicate(Poisson(2.0), service, 600.0, FixedKeepAlive(5.0), Limits(), runs=8)
    for name in ("cold_starts", "latency_ms.p99", "mean_environments", "cost_usd",
                 "concurrency_percentiles.p90", "mean_lifespan_s"):  # fmt: skip
        s = spread[name]
        assert s.runs == 8 and s.ci95_low <= s.mean <= s.ci95_high
    colds = spread["cold_starts"]
    assert colds.ci95_high - colds.ci95_low == pytest.approx(2 * t975(7) * colds.sd / 8**0.5)
    doc = _cli(*PARAMETRIC, "--traffic", "poisson:2/s", "--duration", "10m", "--runs", "4")
    replications = doc["replications"]
    assert isinstance(replications, dict)
    assert {"ci95_low", "ci95_high", "mean"} <= set(replications["max_environments"])


def test_percentiles_of_environments_and_concurrency_are_weighted_by_time() -> None:
    # environments: 1 on [0, 1), 2 on [1, 2), 1 on [2, 10); nothing in flight
    run = Run(
        arrivals=np.empty(0),
        kind=np.empty(0, np.uint8),
        busy_s=np.empty(0),
        init_s=np.empty(0),
        births=np.array([0.0, 1.0]),
        deaths=np.array([2.0, 10.0]),
        horizon_s=10.0,
        provisioned=0,
    )
    summary = summarise(run)
    assert summary.environments_percentiles == {"p50": 1, "p90": 1, "p99": 2}
    assert summary.concurrency_percentiles == {"p50": 0, "p90": 0, "p99": 0}
    # one in flight 60 % of the time
    busy = summarise(_fixed_run(1.0, 0.6, 0.0, 600.0, 100.0))
    assert busy.concurrency_percentiles == {"p50": 1, "p90": 1, "p99": 1}
    assert summarise(_fixed_run(1.0, 0.2, 0.0, 600.0, 100.0)).concurrency_percentiles["p50"] == 0


def test_json_has_a_timeline_and_the_lifespan_of_environments() -> None:
    # one arrival every 10 s, 1 s busy + 0.5 s init, keep-alive 2 s: every invocation is cold
    # and every environment lives 0.5 + 1 + 2 = 3.5 s
    run = _fixed_run(10.0, 1.0, 0.5, 2.0, 100.0)
    summary = summarise(run)
    assert summary.cold_starts == summary.environments_created == 10
    assert summary.mean_lifespan_s == pytest.approx(3.5)
    doc = _cli(*PARAMETRIC, "--traffic", "deterministic:1/10s", "--duration", "100s",
               "--keep-alive", "2s")  # fmt: skip
    assert isinstance(doc["summary"], dict)
    assert doc["summary"]["mean_lifespan_s"] == pytest.approx(2.4)
    timeline = doc["timeline"]
    assert isinstance(timeline, dict)
    series = timeline["series"]
    assert timeline["bin_s"] == pytest.approx(0.5) and len(series["t"]) == 200
    assert sum(series["cold_starts"]) == 10
    assert max(series["environments"]) == pytest.approx(1.0)


def test_cost_lines_cover_the_simulated_period_and_a_month() -> None:
    summary = summarise(_fixed_run(1.0, 0.1, 0.3, 600.0, 3600.0), memory_mb=1024)
    period = summary.cost_breakdown_period
    assert sum(period.values()) == pytest.approx(summary.cost_usd)
    assert period["requests"] == pytest.approx(3600 * 0.20 / 1e6)
    month_over_hour = 730.0
    assert summary.cost_breakdown["requests"] == pytest.approx(period["requests"] * month_over_hour)
    result = CliRunner().invoke(
        app, ["model", *PARAMETRIC, "--traffic", "deterministic:1/s", "--duration", "1h"]
    )
    assert "cost, simulated 60.0 min" in result.output
    assert "requests $0.0007" in result.output


def test_provisioned_concurrency_is_billed_by_the_5_minutes_as_aws_prices_it() -> None:
    # AWS's pricing page: from enabling to disabling, "rounded up to the nearest 5 minutes"
    assert provisioned_billed_s(61.0) == provisioned_billed_s(300.0) == 300.0
    assert provisioned_billed_s(301.0) == 600.0 and provisioned_billed_s(0.0) == 0.0
    assert provisioned_billed_s(730 * 3600.0) == 730 * 3600.0
    # 2 environments of 1,024 MB provisioned for a simulated 61 s: 5 minutes are billed
    run = _fixed_run(1.0, 0.1, 0.3, 600.0, 61.0)
    provisioned = replace(run, provisioned=2)
    summary = summarise(provisioned, memory_mb=1024)
    rate = DEFAULT_PRICES.provisioned_x86_64_usd_per_gb_s
    assert summary.cost_breakdown_period["provisioned"] == pytest.approx(2 * 1.0 * 300 * rate)
    assert summary.cost_breakdown["provisioned"] == pytest.approx(2 * 1.0 * 730 * 3600 * rate)
    doc = _cli(*PARAMETRIC, "--traffic", "deterministic:1/s", "--duration", "61s",
               "--provisioned", "2", "--memory", "1024")  # fmt: skip
    assert isinstance(doc["summary"], dict)
    period = doc["summary"]["cost_breakdown_period"]
    assert period["provisioned"] == pytest.approx(2 * 300 * rate)


def test_chart_bins_are_labelled(tmp_path: Path) -> None:
    run = _fixed_run(1.0, 0.1, 0.3, 5.0, 3600.0)
    svg = chart(run, tmp_path / "m.svg", "test").read_text()
    # 3,600 s in 200 bins of 18 s
    assert "count per 18.0 s bin" in svg
    assert "environments (mean per 18.0 s)" in svg
    assert "time (min)" in svg
