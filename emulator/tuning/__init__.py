"""Power tuning, locally: the same workload at several memory sizes, priced like Lambda.

Like aws-lambda-power-tuning, each memory size is a fresh function (`<name>-<MB>`, so each
starts cold), invoked N times through the Invoke API with the REPORT line in the log tail. Serial
runs go in rounds of one invocation per size, so that other load on the host slows every size
alike; parallel runs send a size's N invocations at once. Durations come from REPORT (not from
the client), so the figures are Lambda's own:

    Duration           the handler's time; averaged with the top and bottom `trim` dropped
    Billed Duration    ceil(Duration [+ Init Duration on a cold start, when INIT is billed])
    cost / invocation  billed GB-s at the first duration tier + the request fee (emulator.cost)

A strategy then picks one size: `cost` (cheapest), `speed` (fastest) or `balanced`, which
minimises w·cost/max(cost) + (1−w)·duration/max(duration) as power tuning does.

`measure` runs workloads on one emulator (`tune` and `compare` are built on it), in
driver.py; the statistics and strategies are pure, in stats.py; report.py renders results as
a text table, JSON, and a chart (PNG, and a self-contained HTML file with the chart as inline
SVG). httpx and the server are imported where they are used, so importing this stays cheap.
"""

from __future__ import annotations

from emulator.tuning.driver import measure, tune
from emulator.tuning.stats import (
    DEFAULT_BALANCED_WEIGHT,
    DEFAULT_INVOCATIONS,
    DEFAULT_MEMORY_SIZES,
    DEFAULT_TRIM,
    STRATEGIES,
    Measurement,
    ProgressCallback,
    Recommendation,
    Sample,
    Strategy,
    TuningError,
    TuningResult,
    WeightedPayload,
    Workload,
    payload_choices,
    payload_sequence,
    percentile,
    recommend,
    sample_from,
    sized_function,
    summarise,
    trimmed_mean,
)

__all__ = [
    "DEFAULT_BALANCED_WEIGHT",
    "DEFAULT_INVOCATIONS",
    "DEFAULT_MEMORY_SIZES",
    "DEFAULT_TRIM",
    "STRATEGIES",
    "Measurement",
    "ProgressCallback",
    "Recommendation",
    "Sample",
    "Strategy",
    "TuningError",
    "TuningResult",
    "WeightedPayload",
    "Workload",
    "measure",
    "payload_choices",
    "payload_sequence",
    "percentile",
    "recommend",
    "sample_from",
    "sized_function",
    "summarise",
    "trimmed_mean",
    "tune",
]
