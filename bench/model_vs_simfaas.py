"""The offline model (emulator/model) against SimFaaS and against closed forms, side by side.

SimFaaS (Mahmoudi & Khazaei, ICPE 2021; PyPI `simfaas`, installed by scripts/setup-bench) runs
in this same process on the same scenarios:

1. Agreement: Poisson arrivals, exponential warm and cold service times, a fixed expiration
   threshold, several arrival rates. Cold-start probability and average instance count of
   SimFaaS (mean and 95 % CI over --reps replications of --n requests from an empty platform)
   and of the model (--model-reps replications of the same length, so both include the same
   warm-up), with SimFaaS's scheduler (`reuse="newest"`: the most recently created idle
   instance serves) and Lambda's (`recent`: the most recently used). A row passes when the
   model is within 2 % of SimFaaS, or within SimFaaS's CI where wider.
2. Closed forms: Erlang B for throttles at a concurrency limit (M/G/c/c, insensitive to the
   service distribution), e^(−λK) for cold starts of a short function, Little's law.
3. Speed: 1,000,000 invocations of SimFaaS's own example scenario (λ = 0.9/s, warm 2.016 s,
   cold 2.163 s, expiration 600 s) in SimFaaS and in the model; the ratio. Times are CPU
   seconds of this process (`time.process_time`): the machine is shared, and wall time would
   measure the neighbours. Both include drawing their random numbers and their statistics;
   each is the best of --speed-repeat runs of the same seed (as `timeit` reports).

    .venv/bin/python bench/model_vs_simfaas.py [--reps 5] [--n 40000] [--quick]

Prints figures; asserts nothing (exit 1 only when a row fails, so a run can be checked).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from emulator.model.keepalive import FixedKeepAlive
from emulator.model.results import summarise
from emulator.model.simulator import THROTTLED, Limits, Reuse, simulate

WARM_MEAN_S = 2.016  # SimFaaS's example: warm service 2.016 s, cold 2.163 s
COLD_MEAN_S = 2.163
EXPIRATION_S = 60.0
RATES = (0.02, 0.1, 0.5, 2.0, 8.0)
UNLIMITED = Limits(scale_per_s=None, concurrency=None)
T95 = {1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57, 6: 2.45, 7: 2.36, 8: 2.31, 9: 2.26}


@dataclass(frozen=True)
class Estimate:
    mean: float
    half_width: float  # 95 % CI

    def __str__(self) -> str:
        return f"{self.mean:.5f} ±{self.half_width:.5f}"


def estimate(values: list[float]) -> Estimate:
    if len(values) < 2:
        return Estimate(values[0], math.nan)
    sd = statistics.stdev(values)
    return Estimate(
        statistics.fmean(values), T95.get(len(values) - 1, 1.96) * sd / len(values) ** 0.5
    )


def run_simfaas(rate: float, expiration: float, n: int, seed: int) -> tuple[float, float, float]:
    from simfaas.ServerlessSimulator import ServerlessSimulator

    np.random.seed(seed)  # SimFaaS draws from numpy's global generator
    sim = ServerlessSimulator(
        arrival_rate=rate,
        warm_service_rate=1 / WARM_MEAN_S,
        cold_service_rate=1 / COLD_MEAN_S,
        expiration_threshold=expiration,
        max_time=n / rate,
        maximum_concurrency=10**9,
    )
    started = time.process_time()
    sim.generate_trace()
    elapsed = time.process_time() - started
    result = sim.get_result_dict()
    return float(result["prob_cold"]), float(result["inst_count_avg"]), elapsed


def run_model(
    rate: float, expiration: float, n: int, seed: int, reuse: Reuse
) -> tuple[float, float, float]:
    """(P(cold), average instances, CPU seconds): drawing the inputs, simulating, summarising."""
    started = time.process_time()
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(1 / rate, n))
    warm = rng.exponential(WARM_MEAN_S, n)
    cold = rng.exponential(COLD_MEAN_S, n)
    run = simulate(
        arrivals,
        warm,
        np.zeros(n),
        FixedKeepAlive(expiration),
        limits=UNLIMITED,
        cold_s=cold,
        reuse=reuse,
    )
    summary = summarise(run)
    elapsed = time.process_time() - started
    return summary.cold_start_probability, summary.mean_environments, elapsed


def agrees(model: Estimate, reference: Estimate) -> tuple[float, bool]:
    rel = abs(model.mean - reference.mean) / reference.mean if reference.mean else math.inf
    return rel, rel <= 0.02 or abs(model.mean - reference.mean) <= reference.half_width


def agreement(reps: int, n: int, model_reps: int) -> bool:
    print(
        f"## Agreement with SimFaaS: Poisson arrivals, exponential warm {WARM_MEAN_S} s / cold "
        f"{COLD_MEAN_S} s, expiration {EXPIRATION_S:g} s\n"
        f"SimFaaS: {reps} replications x {n:,} requests; model: {model_reps} x {n:,} "
        "invocations; mean ±95 % CI; pass = within 2 % or within SimFaaS's CI\n"
    )
    header = (
        f"{'rate/s':>7} {'metric':<14} {'SimFaaS':>20} {'model newest':>20} {'diff':>6} "
        f"{'ok':>3} {'model recent':>20} {'diff':>6} {'ok':>3}"
    )
    print(header)
    print("-" * len(header))
    ok = True
    for rate in RATES:
        sf = [run_simfaas(rate, EXPIRATION_S, n, seed) for seed in range(reps)]
        newest = [run_model(rate, EXPIRATION_S, n, 100 + s, "newest") for s in range(model_reps)]
        recent = [run_model(rate, EXPIRATION_S, n, 100 + s, "recent") for s in range(model_reps)]
        for index, metric in ((0, "P(cold)"), (1, "avg instances")):
            ref = estimate([r[index] for r in sf])
            ours = estimate([r[index] for r in newest])
            lambda_like = estimate([r[index] for r in recent])
            rel, good = agrees(ours, ref)
            rel_recent, good_recent = agrees(lambda_like, ref)
            ok &= good and good_recent
            print(
                f"{rate:>7g} {metric:<14} {ref!s:>20} {ours!s:>20} {rel:>6.2%} "
                f"{'yes' if good else 'NO':>3} {lambda_like!s:>20} {rel_recent:>6.2%} "
                f"{'yes' if good_recent else 'NO':>3}"
            )
    return ok


def erlang_b(servers: int, load: float) -> float:
    b = 1.0
    for k in range(1, servers + 1):
        b = load * b / (k + load * b)
    return b


def closed_forms(n: int) -> bool:
    print("\n## Closed forms (one run each, fixed seeds)\n")
    rows: list[tuple[str, float, float]] = []
    rng = np.random.default_rng(11)

    # M/G/c/c: throttled share = Erlang B(c, λ·E[S]), lognormal service, no expiry
    rate, mean, c = 8.0, 0.5, 5
    arrivals = np.cumsum(rng.exponential(1 / rate, n))
    service = rng.lognormal(math.log(mean) - 0.5**2 / 2, 0.5, n)
    run = simulate(
        arrivals, service, np.zeros(n), FixedKeepAlive(1e12), limits=Limits(concurrency=c)
    )
    rows.append(
        (
            f"throttled share, M/G/{c}/{c}, load {rate * mean:g} (Erlang B)",
            erlang_b(c, rate * mean),
            float((run.kind == THROTTLED).mean()),
        )
    )

    # a short function: one environment, cold iff the gap exceeds K
    rate, keep = 0.2, 5.0
    arrivals = np.cumsum(rng.exponential(1 / rate, n))
    summary = summarise(simulate(arrivals, np.full(n, 1e-6), np.zeros(n), FixedKeepAlive(keep)))
    rows.append(
        (
            "P(cold), service → 0, λ=0.2/s, K=5 s (e^-λK)",
            math.exp(-rate * keep),
            summary.cold_start_probability,
        )
    )
    rows.append(
        (
            "live environments, same (1 − e^-λK)",
            1 - math.exp(-rate * keep),
            summary.mean_environments,
        )
    )

    # M/M/∞: mean in flight = λ/μ
    rate, mean = 20.0, 0.3
    arrivals = np.cumsum(rng.exponential(1 / rate, n))
    summary = summarise(
        simulate(arrivals, rng.exponential(mean, n), np.zeros(n), FixedKeepAlive(60.0))
    )
    rows.append(
        ("mean concurrency, M/M/∞, λ=20/s, 1/μ=0.3 s (λ/μ)", rate * mean, summary.mean_concurrency)
    )

    print(f"{'case':<58} {'closed form':>12} {'model':>10} {'diff':>7}")
    ok = True
    for name, exact, got in rows:
        rel = abs(got - exact) / exact
        ok &= rel <= 0.02
        print(f"{name:<58} {exact:>12.5f} {got:>10.5f} {rel:>7.2%}")
    return ok


def speed(n: int, repeat: int) -> None:
    print(
        f"\n## Speed: {n:,} invocations, SimFaaS's example scenario (λ=0.9/s, warm 2.016 s, "
        f"cold 2.163 s, expiration 600 s); best of {repeat} runs each, CPU seconds\n"
    )
    rate = 0.9

    def simfaas_run() -> tuple[float, float, float]:
        return run_simfaas_speed(rate, n)

    figures: list[tuple[str, Callable[[], tuple[float, float, float]]]] = [
        ("model, recent reuse (Lambda)", lambda: run_model(rate, 600.0, n, 7, "recent")),
        ("model, newest reuse (SimFaaS's)", lambda: run_model(rate, 600.0, n, 7, "newest")),
        ("SimFaaS 0.2.2", simfaas_run),
    ]
    results = {}
    for name, fn in figures:
        runs = [fn() for _ in range(repeat)]  # same seed: the same work each time
        p_cold, instances, _ = runs[0]
        elapsed = min(r[2] for r in runs)
        results[name] = elapsed
        print(
            f"{name:<34} {elapsed:>6.2f} s CPU   P(cold) {p_cold:.5f}   "
            f"avg instances {instances:.3f}   (runs: {', '.join(f'{r[2]:.2f}' for r in runs)})"
        )
    reference = results["SimFaaS 0.2.2"]
    for name, elapsed in results.items():
        if name != "SimFaaS 0.2.2":
            print(f"speed-up of {name}: {reference / elapsed:.1f}x")


def run_simfaas_speed(rate: float, n: int) -> tuple[float, float, float]:
    from simfaas.ServerlessSimulator import ServerlessSimulator

    np.random.seed(7)
    sim = ServerlessSimulator(
        arrival_rate=rate,
        warm_service_rate=1 / WARM_MEAN_S,
        cold_service_rate=1 / COLD_MEAN_S,
        expiration_threshold=600.0,
        max_time=n / rate,
    )
    started = time.process_time()
    sim.generate_trace()
    result = sim.get_result_dict()  # its statistics are part of its run, as summarise is ours
    elapsed = time.process_time() - started
    return float(result["prob_cold"]), float(result["inst_count_avg"]), elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--n", type=int, default=40_000, help="requests per replication")
    parser.add_argument("--model-reps", type=int, default=25)
    parser.add_argument("--speed-n", type=int, default=1_000_000)
    parser.add_argument("--speed-repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small runs: a smoke test")
    args = parser.parse_args()
    if args.quick:
        args.reps, args.n, args.model_reps, args.speed_n = 3, 5_000, 10, 50_000
    try:
        import simfaas  # noqa: F401
    except ImportError as exc:
        print(f"SimFaaS is not installed ({exc}): run scripts/setup-bench", file=sys.stderr)
        return 2
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}\n")
    ok = agreement(args.reps, args.n, args.model_reps)
    ok &= closed_forms(max(args.n * args.model_reps // 5, 20_000))
    speed(args.speed_n, args.speed_repeat)
    print("\nall rows agree" if ok else "\nSOME ROWS DO NOT AGREE")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
