"""`LambdaLoadShape`: Locust's load shape, driven by `--lambda-shape` (see `loadtests.schedules`).

One shape class serves every schedule, so a locustfile needs only to import it. It reads
`--users`, `--spawn-rate` and `--run-time` as Locust would without a shape (Locust does not
apply `--run-time` to shapes itself, so the shape ends the run at that time).
"""

from __future__ import annotations

from locust import LoadTestShape

from loadtests.schedules import Schedule, parse_shape


class LambdaLoadShape(LoadTestShape):
    use_common_options = True  # the web UI keeps its user count and spawn rate fields

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._key: tuple[str, int, float] | None = None
        self._schedule: Schedule | None = None

    def tick(self) -> tuple[int, float] | None:
        assert self.runner is not None
        options = self.runner.environment.parsed_options
        spec = str(getattr(options, "lambda_shape", None) or "steady")
        users = int(getattr(options, "num_users", None) or 1)
        spawn_rate = float(getattr(options, "spawn_rate", None) or 1.0)
        run_time = getattr(options, "run_time", None)
        key = (spec, users, spawn_rate)
        if self._schedule is None or key != self._key:
            self._schedule = parse_shape(spec, users, spawn_rate)
            self._key = key
        now: float = self.get_run_time()  # type: ignore[no-untyped-call]
        if run_time and now >= float(run_time):
            return None
        return self._schedule.tick(now)
