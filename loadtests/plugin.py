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
    --lambda-stream VIA         LAMBDA_STREAM     StreamingLambdaUser: invoke | url | both
    --lambda-stream-url URL     LAMBDA_STREAM_URL its function URL (default /lambda-url/FN/)
    --lambda-http ROUTE         LAMBDA_HTTP       ApiUser's route key ("GET /items/{id}") or URL
    --lambda-path-param N=V     LAMBDA_PATH_PARAM     a path parameter's value (repeatable)
    --lambda-path-params-file F LAMBDA_PATH_PARAMS_FILE  values drawn per request (CSV or JSON)
    --lambda-header 'N: V'      LAMBDA_HEADER     a request header, curl's form (repeatable)
    --lambda-trace PATH         LAMBDA_TRACE      the emulator's trace, to split routes cold/warm
    --lambda-emulator URL       LAMBDA_EMULATOR   the emulator's Invoke API, when --host is its
                                                  API port (environments over time)

Where things run: each process that runs users (local runner or worker) records its
invocations; workers send them to the master with each report (`report_to_master` /
`worker_report`); the master (or local runner) polls the emulator, serves the tab and writes
the summary.

HTTP runs (`ApiUser`): each request's client side (route key, the API's request id from the
response headers, latency, status) goes to the master like the Lambda stats; the master reads
the emulator's trace (`--lambda-trace`, new lines every second), joins the two by request id
(`loadtests.routes`) and so splits cold and warm per route with the authorizer's share. The
integration's invocation records also feed the Lambda stats (Init Duration, memory, cost).

Web UI: a "Lambda" tab (Locust's extendedTabs/extendedTables, fed through `/stats/requests`,
with the charts of `/lambda` above its table: loadtests/webtab.py), `GET /lambda`
(loadtests/report.py: the charts and the table, `?function=NAME`) and `GET /lambda/stats`
(the summary as JSON).
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
from loadtests import webtab
from loadtests.invoke import InvokeAnswer
from loadtests.report import render_report
from loadtests.routes import RouteSample, RouteStats, TraceTail, invocation_facts
from loadtests.schedules import Arrivals, Replay, parse_shape
from loadtests.stats import LambdaStats
from loadtests.streaming import StreamSample
from loadtests.summary import build_summary, render_text, route_summaries, rows
from loadtests.watch import EnvironmentWatch

TAB = "lambda"
POLL_INTERVAL_S = 1.0
CSV_REWRITE_S = 1.2
SPLIT_TYPE = "Lambda"  # the type of the cold/warm rows of HTTP routes in Locust's table
# At the end, how long to wait for the trace's last records (the emulator flushes every second).
TRACE_CATCH_UP_S = 3.0


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
    group.add_argument(
        "--lambda-stream",
        env_var="LAMBDA_STREAM",
        default="",
        choices=["", "invoke", "url", "both"],
        help="StreamingLambdaUser: InvokeWithResponseStream, the function URL, or both in turn.",
    )
    group.add_argument(
        "--lambda-stream-url",
        env_var="LAMBDA_STREAM_URL",
        default="",
        include_in_web_ui=False,
        help="StreamingLambdaUser's function URL: a path on --host or a URL "
        "(default /lambda-url/FUNCTION/).",
    )
    group.add_argument(
        "--lambda-http",
        env_var="LAMBDA_HTTP",
        default="",
        help="ApiUser's route: a route key ('GET /items/{id}') or METHOD URL.",
    )
    group.add_argument(
        "--lambda-path-param",
        env_var="LAMBDA_PATH_PARAM",
        action="append",
        default=[],
        include_in_web_ui=False,
        help="NAME=VALUE of a path parameter (repeatable).",
    )
    group.add_argument(
        "--lambda-path-params-file",
        env_var="LAMBDA_PATH_PARAMS_FILE",
        default="",
        include_in_web_ui=False,
        help="Path parameter values drawn per request: CSV with a header row, or a JSON list.",
    )
    group.add_argument(
        "--lambda-header",
        env_var="LAMBDA_HEADER",
        action="append",
        default=[],
        include_in_web_ui=False,
        help="A request header, curl's 'Name: value' (repeatable).",
    )
    group.add_argument(
        "--lambda-trace",
        env_var="LAMBDA_TRACE",
        default="",
        include_in_web_ui=False,
        help="The emulator's trace (invocations.jsonl): splits HTTP routes cold/warm.",
    )
    group.add_argument(
        "--lambda-emulator",
        env_var="LAMBDA_EMULATOR",
        default="",
        include_in_web_ui=False,
        help="The emulator's Invoke API URL, when --host is its API port (for --lambda-watch).",
    )


def _option(environment: Environment, name: str, default: Any) -> Any:
    value = getattr(environment.parsed_options, name, None)
    return default if value is None or value == "" else value


class LambdaPlugin:
    """The Lambda stats of one Locust process."""

    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        self.stats = LambdaStats()
        self.route_stats = self._new_route_stats()
        self._route_samples: list[RouteSample] = []  # a worker's, until its next report
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

    @property
    def http_run(self) -> bool:
        """Users send HTTP requests to an API (ApiUser), not Invoke API calls."""
        from loadtests.api_user import ApiUser

        classes = self.environment.user_classes or []
        return bool(_option(self.environment, "lambda_http", "")) or any(
            issubclass(c, ApiUser) for c in classes
        )

    # --- events -----------------------------------------------------------------------------

    def on_request(
        self, response_time: float, context: dict[str, Any] | None = None, **_: Any
    ) -> None:
        stream = (context or {}).get("stream")  # StreamingLambdaUser's
        if isinstance(stream, StreamSample):
            self.stats.record_stream(
                stream.target, stream.ttfb_ms, stream.ttlb_ms, stream.payload_bytes, stream.cold
            )
        answer = (context or {}).get("lambda")
        if isinstance(answer, InvokeAnswer):
            self.stats.record(
                answer.outcome,
                response_time,
                answer.report,
                answer.error_type,
                executed_version=answer.executed_version,
            )
            return
        sample = (context or {}).get("api")
        if isinstance(sample, RouteSample):
            if self.is_worker:
                self._route_samples.append(sample)
            else:
                self._record_route(sample)

    def _record_route(self, sample: RouteSample) -> None:
        self.route_stats.record(sample)

    def on_report_to_master(self, client_id: str, data: dict[str, Any]) -> None:
        data["lambda"] = self.stats.take()
        if self._route_samples:
            data["lambda_routes"] = [list(s) for s in self._route_samples]
            self._route_samples = []

    def on_worker_report(self, client_id: str, data: dict[str, Any]) -> None:
        if "lambda" in data:
            self.stats.merge(data["lambda"])
        for route, request_id, latency_ms, status in data.get("lambda_routes", []):
            self._record_route(RouteSample(route, request_id, float(latency_ms), int(status)))

    def on_reset_stats(self) -> None:
        """The web UI's Reset button: Locust's stats and ours start over together."""
        self.stats = LambdaStats()
        self.route_stats = self._new_route_stats()

    # --- HTTP routes: the trace's side ------------------------------------------------------

    def _new_route_stats(self) -> RouteStats:
        trace = str(_option(self.environment, "lambda_trace", ""))
        # the run's requests come after this moment: what the trace already holds is not theirs
        self._trace = TraceTail(Path(trace), from_end=True) if trace else None
        return RouteStats(correlate=self._trace is not None)

    def read_trace(self, *, final: bool = False) -> None:
        """Join what the trace has written since the last read; the integrations' invocation
        records become the Lambda stats an API client cannot see (REPORT, memory, cost)."""
        if self._trace is None:
            return
        joined = self.route_stats.ingest(self._trace.read())
        if final:
            joined += self.route_stats.join(final=True)
        for item in joined:
            record = item.integration
            if record is None:
                continue
            self._log_split(item.sample, bool(record.get("cold")))
            outcome, report, error, at = invocation_facts(record)
            self.stats.record(outcome, item.sample.latency_ms, report, error, at=at)

    def _log_split(self, sample: RouteSample, cold: bool) -> None:
        """Locust's own table gets the route's cold and warm requests as rows of type Lambda
        ("GET /items/{id} [cold]"), logged on their entries only: the Aggregated row, the
        requests per second and the failures stay the client's."""
        name = f"{sample.route} [{'cold' if cold else 'warm'}]"
        entry: Any = self.environment.stats.get(name, SPLIT_TYPE)
        entry.log(sample.latency_ms, 0)

    def _catch_up(self) -> None:
        """At the end: wait (bounded) for the trace's last flush to name the last requests."""
        if self._trace is None:
            return
        deadline = time.monotonic() + TRACE_CATCH_UP_S
        self.read_trace()
        while self.route_stats.pending and time.monotonic() < deadline:
            time.sleep(0.2)
            self.read_trace()
        self.read_trace(final=True)

    def on_test_start(self, environment: Environment, **_: Any) -> None:
        self.stats = LambdaStats()
        self.route_stats = self._new_route_stats()
        self._route_samples = []
        self.started_at = time.time()
        self.ended_at = None
        self._setup_replay()
        if self.is_worker:
            return
        self.watch = None
        host = self.environment.host or ""
        if self.http_run:
            # --host is an API, not the emulator's Invoke API: never probe /_emu/ there
            host = str(_option(self.environment, "lambda_emulator", ""))
        if _option(self.environment, "lambda_watch", "auto") == "auto" and self.function and host:
            from emulator.arns import split_function_name

            # every version's environments: an alias's run may execute several
            watch = EnvironmentWatch(host, split_function_name(self.function)[0])
            if watch.probe():
                watch.start()
                self.watch = watch
        if self.watch is not None or self._trace is not None:
            group: Any = getattr(self.environment.runner, "greenlet", None)
            if group is not None:
                self._poller = group.spawn(self._poll_forever, self.watch)

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

    def _poll_forever(self, watch: EnvironmentWatch | None) -> None:
        while True:
            time.sleep(POLL_INTERVAL_S)  # gevent's, cooperative: Locust patched the stdlib
            if watch is not None:
                watch.poll()
            self.read_trace()

    def on_test_stop(self, environment: Environment, **_: Any) -> None:
        if self._poller is not None:
            self._poller.kill(block=False)
            self._poller = None
        if self.watch is not None:
            self.watch.poll()
        self.ended_at = time.time()
        if not self.is_worker and self._trace is not None:
            # before Locust's reports: the split rows are in them
            self._catch_up()
            if getattr(self.environment.parsed_options, "csv_prefix", None):
                # Locust's CSV writer rewrites the files once a second (CSV_STATS_INTERVAL_SEC)
                # and only closes them at the end: let it write the caught-up rows once more
                time.sleep(CSV_REWRITE_S)

    def on_quitting(self, environment: Environment, **_: Any) -> None:
        if self.is_worker or not (self.function or self.route_stats.routes):
            return
        self._catch_up()
        summary = self.summary()
        sys.stdout.write("\n" + render_text(summary) + "\n")
        sys.stdout.flush()
        path = str(_option(self.environment, "lambda_summary", ""))
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
            report_path(Path(path)).write_text(render_report([summary]), encoding="utf-8")

    def summary(self) -> dict[str, Any]:
        architecture = cast(
            Architecture, _option(self.environment, "lambda_architecture", "x86_64")
        )
        emulator = self.watch.summary() if self.watch is not None else None
        return build_summary(
            self.stats,
            function=self.function,
            target=self.environment.host or "",
            started_at=self.started_at,
            ended_at=self.ended_at,
            architecture=architecture,
            emulator=emulator,
            routes=route_summaries(
                self.route_stats,
                started_at=self.started_at,
                ended_at=self.ended_at,
                architecture=architecture,
                watched=(self.function, emulator) if emulator is not None else None,
            )
            if self.route_stats.routes
            else None,
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

        def tab_script() -> Response:
            return Response(webtab.TAB_SCRIPT, mimetype="text/javascript")

        def extend_stats(response: Response) -> Response:
            if request.path == "/" and response.mimetype == "text/html":
                # the Lambda tab's charts (loadtests/webtab.py)
                response.set_data(webtab.inject(response.get_data(as_text=True)))
                return response
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
        app.add_url_rule(webtab.SCRIPT_PATH, "lambda_tab_script", auth(tab_script))
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
