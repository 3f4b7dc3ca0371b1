"""Lambda stats inside Locust: options, the stats collector, the web UI's Lambda tab and the
headless summary. `install()` registers it on Locust's events; a locustfile calls it once
(`loadtests/locustfile.py` does).

Options (each also read from its environment variable, for docker-compose):

    --lambda-function NAME      LAMBDA_FUNCTION   the function LambdaUser invokes
    --lambda-payload SPEC       LAMBDA_PAYLOAD    JSON, @FILE or weighted:FILE.json
    --lambda-shape SPEC         LAMBDA_SHAPE      steady | step | spike | diurnal | replay:TRACE
    --lambda-client KIND        LAMBDA_CLIENT     fasthttp (default, the faster) | httpx
    --lambda-throttle-backoff S LAMBDA_THROTTLE_BACKOFF  backoff base after a 429 (0.05 s)
    --lambda-sigv4              LAMBDA_SIGV4      sign requests (real Lambda)
    --lambda-region REGION      LAMBDA_REGION     SigV4 region (default us-east-1)
    --lambda-architecture ARCH  LAMBDA_ARCHITECTURE  for the cost estimate (x86_64 | arm64)
    --lambda-summary PATH       LAMBDA_SUMMARY    write the JSON summary here at the end
    --lambda-watch auto|off     LAMBDA_WATCH      poll the emulator's environments
    --lambda-workers N          LAMBDA_WORKERS    number of workers (replay splits arrivals)

Where things run: each process that runs users (local runner or worker) records its
invocations; workers send them to the master with each report (`report_to_master` /
`worker_report`); the master (or local runner) polls the emulator, serves the tab and writes
the summary.

Web UI: a "Lambda" tab (Locust's extendedTabs/extendedTables, fed through `/stats/requests`),
`GET /lambda` (loadtests/report.py: the charts and the table, `?function=NAME`) and
`GET /lambda/stats` (the summary as JSON).
"""

from __future__ import annotations

import html
import json
import sys
import time
from pathlib import Path
from typing import Any, cast

from flask import Response, request
from locust import events
from locust.argument_parser import LocustArgumentParser
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from emulator.config import Architecture
from loadtests.invoke import InvokeAnswer
from loadtests.report import render_report
from loadtests.schedules import Arrivals, Replay, parse_shape
from loadtests.stats import LambdaStats
from loadtests.summary import build_summary, render_text, rows
from loadtests.watch import EnvironmentWatch

TAB = "lambda"
POLL_INTERVAL_S = 1.0


def add_arguments(parser: LocustArgumentParser) -> None:
    # Locust's own add_argument (not a group's) knows include_in_web_ui.
    group = parser
    group.add_argument(
        "--lambda-function", env_var="LAMBDA_FUNCTION", default="", help="Function to invoke."
    )
    group.add_argument(
        "--lambda-payload",
        env_var="LAMBDA_PAYLOAD",
        default="{}",
        help="JSON payload, @FILE, or weighted:FILE.json",
    )
    group.add_argument(
        "--lambda-shape",
        env_var="LAMBDA_SHAPE",
        default="steady",
        help="steady | step[:steps=4,every=10] | spike[:at=3,hold=10,base=1] | "
        "diurnal[:period=60,min=1] | replay:TRACE.jsonl[,speed=1,function=NAME]",
    )
    group.add_argument(
        "--lambda-client",
        env_var="LAMBDA_CLIENT",
        default="fasthttp",
        choices=["fasthttp", "httpx"],
        help="HTTP client of LambdaUser",
    )
    group.add_argument(
        "--lambda-throttle-backoff",
        env_var="LAMBDA_THROTTLE_BACKOFF",
        type=float,
        default=0.05,
        help="Base of the jittered exponential backoff after a 429, in seconds (0: none).",
    )
    group.add_argument(
        "--lambda-sigv4",
        env_var="LAMBDA_SIGV4",
        action="store_true",
        default=False,
        help="Sign requests with SigV4 (real Lambda).",
    )
    group.add_argument(
        "--lambda-region", env_var="LAMBDA_REGION", default="us-east-1", help="SigV4 region."
    )
    group.add_argument(
        "--lambda-architecture",
        env_var="LAMBDA_ARCHITECTURE",
        default="x86_64",
        choices=["x86_64", "arm64"],
        help="Architecture priced in the cost estimate.",
    )
    group.add_argument(
        "--lambda-summary",
        env_var="LAMBDA_SUMMARY",
        default="",
        include_in_web_ui=False,
        help="Write the Lambda summary (JSON) to this path at the end.",
    )
    group.add_argument(
        "--lambda-watch",
        env_var="LAMBDA_WATCH",
        default="auto",
        choices=["auto", "off"],
        include_in_web_ui=False,
        help="Poll the emulator's control API for environments (auto: when the host is one).",
    )
    group.add_argument(
        "--lambda-workers",
        env_var="LAMBDA_WORKERS",
        type=int,
        default=1,
        include_in_web_ui=False,
        help="Number of Locust workers (a replay splits the trace's arrivals among them).",
    )


def _option(environment: Environment, name: str, default: Any) -> Any:
    value = getattr(environment.parsed_options, name, None)
    return default if value is None or value == "" else value


class LambdaPlugin:
    """The Lambda stats of one Locust process."""

    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        self.stats = LambdaStats()
        self.started_at = time.time()
        self.ended_at: float | None = None
        self.watch: EnvironmentWatch | None = None
        self._poller: Any = None  # a greenlet of the runner's group
        # Locust's EventHook is untyped: this is the one boundary where it is called.
        ev: Any = environment.events
        ev.request.add_listener(self.on_request)
        ev.test_start.add_listener(self.on_test_start)
        ev.test_stop.add_listener(self.on_test_stop)
        ev.quitting.add_listener(self.on_quitting)
        ev.report_to_master.add_listener(self.on_report_to_master)
        ev.worker_report.add_listener(self.on_worker_report)
        ev.reset_stats.add_listener(self.on_reset_stats)
        if environment.web_ui is not None:
            self.install_web_ui()

    # --- roles ------------------------------------------------------------------------------

    @property
    def is_worker(self) -> bool:
        return isinstance(self.environment.runner, WorkerRunner)

    @property
    def is_master(self) -> bool:
        return isinstance(self.environment.runner, MasterRunner)

    @property
    def function(self) -> str:
        """--lambda-function, else the `function` of the locustfile's LambdaUser classes."""
        from loadtests.user import LambdaUser

        named = str(_option(self.environment, "lambda_function", ""))
        if named:
            return named
        classes = self.environment.user_classes or []
        declared = sorted({c.function for c in classes if issubclass(c, LambdaUser) and c.function})
        return ", ".join(declared)

    # --- events -----------------------------------------------------------------------------

    def on_request(
        self, response_time: float, context: dict[str, Any] | None = None, **_: Any
    ) -> None:
        answer = (context or {}).get("lambda")
        if isinstance(answer, InvokeAnswer):
            self.stats.record(
                answer.outcome,
                response_time,
                answer.report,
                answer.error_type,
                executed_version=answer.executed_version,
            )

    def on_report_to_master(self, client_id: str, data: dict[str, Any]) -> None:
        data["lambda"] = self.stats.take()

    def on_worker_report(self, client_id: str, data: dict[str, Any]) -> None:
        if "lambda" in data:
            self.stats.merge(data["lambda"])

    def on_reset_stats(self) -> None:
        """The web UI's Reset button: Locust's stats and ours start over together."""
        self.stats = LambdaStats()

    def on_test_start(self, environment: Environment, **_: Any) -> None:
        self.stats = LambdaStats()
        self.started_at = time.time()
        self.ended_at = None
        self._setup_replay()
        if self.is_worker:
            return
        self.watch = None
        host = self.environment.host or ""
        if _option(self.environment, "lambda_watch", "auto") == "auto" and self.function:
            from emulator.arns import split_function_name

            # every version's environments: an alias's run may execute several
            watch = EnvironmentWatch(host, split_function_name(self.function)[0])
            if watch.probe():
                watch.start()
                self.watch = watch
                group: Any = getattr(self.environment.runner, "greenlet", None)
                if group is not None:
                    self._poller = group.spawn(self._poll_forever, watch)

    def _setup_replay(self) -> None:
        from loadtests.user import LambdaUser

        LambdaUser.arrivals = None
        spec = str(_option(self.environment, "lambda_shape", "steady"))
        if not spec.startswith("replay:") or self.is_master:
            return
        replay = parse_shape(spec, 1, 1.0)
        assert isinstance(replay, Replay)
        runner = self.environment.runner
        index = runner.worker_index if isinstance(runner, WorkerRunner) else 0
        workers = int(_option(self.environment, "lambda_workers", 1)) if self.is_worker else 1
        LambdaUser.arrivals = Arrivals(replay.offsets, worker_index=index, workers=workers)

    def _poll_forever(self, watch: EnvironmentWatch) -> None:
        while True:
            time.sleep(POLL_INTERVAL_S)  # gevent's, cooperative: Locust patched the stdlib
            watch.poll()

    def on_test_stop(self, environment: Environment, **_: Any) -> None:
        if self._poller is not None:
            self._poller.kill(block=False)
            self._poller = None
        if self.watch is not None:
            self.watch.poll()
        self.ended_at = time.time()

    def on_quitting(self, environment: Environment, **_: Any) -> None:
        if self.is_worker or not self.function:
            return
        summary = self.summary()
        sys.stdout.write("\n" + render_text(summary) + "\n")
        sys.stdout.flush()
        path = str(_option(self.environment, "lambda_summary", ""))
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
            report_path(Path(path)).write_text(render_report([summary]), encoding="utf-8")

    def summary(self) -> dict[str, Any]:
        return build_summary(
            self.stats,
            function=self.function,
            target=self.environment.host or "",
            started_at=self.started_at,
            ended_at=self.ended_at,
            architecture=cast(
                Architecture, _option(self.environment, "lambda_architecture", "x86_64")
            ),
            emulator=self.watch.summary() if self.watch is not None else None,
        )

    # --- web UI -----------------------------------------------------------------------------

    def install_web_ui(self) -> None:
        web_ui = self.environment.web_ui
        assert web_ui is not None
        web_ui.template_args["extendedTabs"] = [{"title": "Lambda", "key": TAB}]
        web_ui.template_args["extendedTables"] = [
            {
                "key": TAB,
                "structure": [
                    {"key": "metric", "title": "Lambda"},
                    {"key": "value", "title": "Value"},
                ],
            }
        ]
        web_ui.template_args["extendedCsvFiles"] = [
            {"href": "lambda/stats", "title": "Download the Lambda summary (JSON)"}
        ]
        app = web_ui.app
        assert app is not None
        auth: Any = web_ui.auth_required_if_enabled

        def lambda_stats() -> Response:
            return Response(json.dumps(self.summary()), mimetype="application/json")

        def lambda_page() -> Response:
            summary = self.summary()
            wanted = request.args.get("function")
            if wanted is not None and wanted != summary["function"]:
                return Response(f"no function {html.escape(wanted)}", status=404)
            return Response(render_page(summary), mimetype="text/html")

        def extend_stats(response: Response) -> Response:
            # Locust's UI polls /stats/requests; its `extended_stats` feed the extended tabs.
            if request.path != "/stats/requests" or not response.is_json:
                return response
            data = response.get_json()
            charts = {"metric": "Charts (cold starts, environments, latency, memory, cost)",
                      "value": "/lambda"}  # fmt: skip
            data["extended_stats"] = [{"key": TAB, "data": [*rows(self.summary()), charts]}]
            response.set_data(json.dumps(data))
            return response

        app.add_url_rule("/lambda/stats", "lambda_stats", auth(lambda_stats))
        app.add_url_rule("/lambda", "lambda_page", auth(lambda_page))
        app.after_request(extend_stats)


def render_page(summary: dict[str, Any]) -> str:
    """The live page: the report of the run so far, reloaded every 2 s."""
    return render_report([summary], refresh_s=2)


def report_path(summary_path: Path) -> Path:
    """The run's HTML report, beside its summary JSON."""
    return summary_path.with_name("lambda-report.html")


_INSTALLED: set[bool] = set()  # Locust's events are process-wide; register on them once


def install() -> None:
    """Register the Lambda options and stats on Locust's events (once per process)."""
    if _INSTALLED:
        return
    _INSTALLED.add(True)
    hooks: Any = events
    hooks.init_command_line_parser.add_listener(add_arguments)
    hooks.init.add_listener(_on_init)


def _on_init(environment: Environment, **_: Any) -> None:
    LambdaPlugin(environment)
