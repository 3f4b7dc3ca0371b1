"""The offline cold/warm model (issue 7): predict cold starts, latency, concurrency and cost of a
function under production traffic without running it. It never imports the engine: its inputs
are trace files (docs/trace-format.md) and descriptions of traffic, and its core is a
discrete-event simulation of Lambda's scaling (`simulator.py`). See docs/model.md.

    distributions.py   service/init time distributions (fixed, exp, lognormal, uniform, empirical)
    traffic.py         arrival processes (Poisson … Azure Functions 2019 per-minute counts)
    keepalive.py       keep-alive policies (fixed, random range, hybrid histogram)
    traces.py          trace files → per-function empirical distributions
    simulator.py       the event loop
    results.py         figures of a run, cost
    predict.py         one prediction; provisioned-concurrency recommendation
    render.py          text table, JSON, chart
"""

from __future__ import annotations

from emulator.model.distributions import ModelInputError, parse_distribution, parse_seconds
from emulator.model.keepalive import parse_keep_alive
from emulator.model.predict import (
    Draws,
    Recommendation,
    Spread,
    draw,
    recommend_provisioned,
    replicate,
    run,
    run_traffic,
)
from emulator.model.results import Summary, summarise
from emulator.model.simulator import Limits, Run, simulate
from emulator.model.traces import ServiceModel, fit_trace, read_trace
from emulator.model.traffic import parse_traffic

__all__ = [
    "Draws",
    "Limits",
    "ModelInputError",
    "Recommendation",
    "Run",
    "ServiceModel",
    "Spread",
    "Summary",
    "draw",
    "fit_trace",
    "parse_distribution",
    "parse_keep_alive",
    "parse_seconds",
    "parse_traffic",
    "read_trace",
    "recommend_provisioned",
    "replicate",
    "run",
    "run_traffic",
    "simulate",
    "summarise",
]
