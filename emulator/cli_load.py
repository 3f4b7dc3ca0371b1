"""lambda-emu load: Locust load runs (issue 5).

    lambda-emu load hello --users 20 --run-time 30s            headless, emulator started here
    lambda-emu load hello --shape spike:at=2,hold=5 --users 50
    lambda-emu load hello --web                                 Locust's UI, with a Lambda tab
    lambda-emu load hello --workers 2                           Locust's distributed mode
    lambda-emu load hello --target https://lambda.eu-west-1.amazonaws.com --sigv4
    lambda-emu load --http 'GET /items/{id}' --path-param id=42 --header 'Authorization: allow'
    lambda-emu load --http 'GET https://abc.execute-api.eu-west-1.amazonaws.com/prod/items/{id}'
    lambda-emu load --http 'POST /lambda-url/checkout/' --payload '{"cart": 3}'   a function URL
    lambda-emu load stream_node --stream                        InvokeWithResponseStream and
                                                                the function URL: TTFB, TTLB

The work is in `loadtests.run`; Locust itself only ever runs in child processes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from emulator import cli_common
from emulator.cli_common import fail


def default_out(function: str) -> Path:
    """Where a run's reports go without --out: under the ignored state directory, so a run in
    a checkout leaves nothing untracked."""
    return Path(".lambda-emu") / "load" / function


def http_out(route: str) -> str:
    """A directory name for a route key or URL: "GET /items/{id}" → "GET_items_id"."""
    import re

    return re.sub(r"[^A-Za-z0-9.-]+", "_", route).strip("_") or "http"


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `lambda-emu` app."""
    app.command()(load)


def load(
    function: Annotated[
        Optional[str],  # noqa: UP045
        typer.Argument(
            help="Function to load: NAME, NAME:VERSION or NAME:ALIAS (optional with --http)."
        ),
    ] = None,
    manifest: Annotated[
        Optional[Path],  # noqa: UP045 - typer needs Optional at runtime on 3.11
        typer.Option(
            "--manifest", "-m", help="lambda-emu.toml or template.yaml (default: ./lambda-emu.toml)"
        ),
    ] = None,
    target: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Invoke API to load instead of starting an emulator (URL)."),
    ] = None,
    users: Annotated[int, typer.Option("--users", "-u", help="Peak concurrent users.")] = 10,
    spawn_rate: Annotated[
        float, typer.Option("--spawn-rate", "-r", help="Users started per second.")
    ] = 10.0,
    run_time: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--run-time", "-t", help="30s, 5m, 1h30m (headless default: 30s)."),
    ] = None,
    shape: Annotated[
        str,
        typer.Option(
            help="steady | step[:steps=4,every=10] | spike[:at=3,hold=10,base=1] | "
            "diurnal[:period=60,min=1] | replay:TRACE.jsonl[,speed=1,function=NAME]"
        ),
    ] = "steady",
    payload: Annotated[
        str, typer.Option(help="JSON payload, @FILE, or weighted:FILE.json.")
    ] = "{}",
    out: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="Reports go here (default: .lambda-emu/load/FUNCTION)."),
    ] = None,
    web: Annotated[bool, typer.Option("--web", help="Serve Locust's web UI.")] = False,
    web_port: Annotated[int, typer.Option(help="Port of the web UI (0: any free).")] = 8089,
    autostart: Annotated[
        bool, typer.Option("--autostart", help="With --web: start at once.")
    ] = False,
    autoquit: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(help="With --web --autostart: quit this many seconds after the run."),
    ] = None,
    workers: Annotated[
        int, typer.Option(help="Locust workers on this machine (0: one local runner).")
    ] = 0,
    client: Annotated[str, typer.Option(help="fasthttp (faster) | httpx")] = "fasthttp",
    sigv4: Annotated[
        bool, typer.Option("--sigv4", help="Sign with SigV4 (real Lambda; AWS credentials).")
    ] = False,
    region: Annotated[str, typer.Option(help="SigV4 region.")] = "us-east-1",
    architecture: Annotated[str, typer.Option(help="x86_64 | arm64, for the cost.")] = "x86_64",
    sandbox: Annotated[
        str,
        typer.Option(
            help="Sandbox of the emulator started here: auto | process | docker | portable"
        ),
    ] = "auto",
    stop_timeout: Annotated[
        float, typer.Option(help="Seconds users get to finish their invocation at the end.")
    ] = 30.0,
    http: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--http",
            help="Load an HTTP route: a route key of the manifest ('GET /items/{id}'), or "
            "[METHOD] URL. With --target: the route below that base URL (a deployed stage).",
        ),
    ] = None,
    path_param: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--path-param", help="NAME=VALUE of a path parameter (repeatable)."),
    ] = None,
    path_params_file: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            help="Path parameter values drawn per request: CSV with a header row, or JSON list."
        ),
    ] = None,
    header: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--header", "-H", help="'Name: value', as curl's -H (repeatable)."),
    ] = None,
    api_port: Annotated[
        int, typer.Option(help="With --http: the emulator's API port (0: any free).")
    ] = 0,
    stream: Annotated[
        bool,
        typer.Option(
            "--stream",
            help="Stream the response (InvokeWithResponseStream, the function URL) and report "
            "time to first and last byte.",
        ),
    ] = False,
    stream_via: Annotated[
        str, typer.Option(help="With --stream: invoke | url | both (in turn).")
    ] = "both",
    stream_url: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="With --stream: the function URL (default /lambda-url/FUNCTION/)."),
    ] = None,
    env_vars: cli_common.EnvVarsOpt = None,
    env_file: cli_common.EnvFileOpt = None,
) -> None:
    """Load a function (or, with --http, an HTTP route) with Locust and report cold starts,
    memory, throttles and cost."""
    if client not in ("fasthttp", "httpx"):
        raise fail(f"--client: must be fasthttp or httpx, got {client!r}")
    if architecture not in ("x86_64", "arm64"):
        raise fail(f"--architecture: must be x86_64 or arm64, got {architecture!r}")
    if users < 1 or workers < 0:
        raise fail("--users must be >= 1 and --workers >= 0")
    if stream_via not in ("invoke", "url", "both"):
        raise fail(f"--stream-via: must be invoke, url or both, got {stream_via!r}")
    if stream_url is not None and not stream:
        raise fail("--stream-url needs --stream")
    if stream and http is not None:
        raise fail("--stream loads a function; --http an HTTP route: one or the other")

    from loadtests.http import HttpOptionError, HttpTarget, PathParams, parse_headers
    from loadtests.payloads import PayloadError, Payloads
    from loadtests.run import LoadRun, LoadRunError, execute, free_port
    from loadtests.schedules import ShapeError, parse_shape

    if http is None and (path_param or path_params_file or header):
        raise fail("--path-param, --path-params-file and --header need --http")
    if http is None and not function:
        raise fail("name a function to load, or an HTTP route with --http")
    route: HttpTarget | None = None
    try:
        Payloads.parse(payload)
        parse_shape(shape, users, spawn_rate)
        if http is not None:
            route = HttpTarget.parse(http)
            PathParams.parse(path_param or (), path_params_file).check(route.path)
            parse_headers(header or ())
    except (PayloadError, ShapeError, HttpOptionError) as exc:
        raise fail(str(exc)) from None

    manifest_path = None
    serve_args: list[str] = ["--sandbox", sandbox]
    overrides = None
    if target is None:
        overrides = cli_common.read_overrides(env_file, env_vars)
        for flag, path in (("--env-vars", env_vars), ("--env-file", env_file)):
            if path is not None:
                serve_args += [flag, str(path.resolve())]
    elif env_vars is not None or env_file is not None:
        raise fail("--target: --env-vars and --env-file configure a local emulator only")
    if route is not None and route.base_url is None and target is None:
        manifest_path = cli_common.manifest_path(manifest)
        function = _route_function(manifest_path, route.route_key, function)
    elif target is None and http is None:
        from emulator.arns import split_function_name

        manifest_path = cli_common.manifest_path(manifest)
        name, qualifier = split_function_name(str(function))
        functions = cli_common.load_functions(manifest_path)
        fn = cli_common.function(cli_common.overridden(functions, overrides), name)
        if stream and stream_via != "invoke" and stream_url is None:
            _check_stream_url(manifest_path, name)
        known = ("$LATEST", *(v.version for v in fn.versions), *(a.name for a in fn.aliases))
        if qualifier is not None and qualifier not in known:
            raise fail(
                f"function '{name}' has no version or alias '{qualifier}' "
                f"(have: {', '.join(known)})"
            )

    name = function or ""
    run = LoadRun(
        function=name,
        out=(out or default_out(name or http_out(str(http)))).resolve(),
        manifest=manifest_path,
        target=target,
        users=users,
        spawn_rate=spawn_rate,
        run_time=run_time if (run_time or web) else "30s",
        shape=shape,
        payload=payload,
        client=client,
        web=web,
        web_port=web_port or free_port(),
        autostart=autostart,
        autoquit=autoquit,
        workers=workers,
        sigv4=sigv4,
        region=region,
        architecture=architecture,
        stop_timeout_s=stop_timeout,
        emulator_args=tuple(serve_args),
        http=http,
        path_params=tuple(path_param or ()),
        path_params_file=path_params_file.resolve() if path_params_file else None,
        headers=tuple(header or ()),
        api_port=api_port or None,
        stream=stream_via if stream else None,
        stream_url=stream_url,
    )
    if web:
        typer.echo(f"lambda-emu load: web UI on http://127.0.0.1:{run.web_port}", err=True)
    try:
        execute(run)
    except LoadRunError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"lambda-emu load: reports in {run.out}", err=True)


def _route_function(manifest: Path, route_key: str, function: str | None) -> str:
    """The integration of `route_key` in the manifest (a one-line failure if it has none)."""
    from emulator.errors import ManifestError
    from emulator.manifests import load_http
    from loadtests.http import FUNCTION_URL_PREFIX

    functions = cli_common.load_functions(manifest)
    try:
        http = load_http(manifest, functions)
    except ManifestError as exc:
        raise fail(str(exc)) from None
    routes = http.routes
    _, _, path = route_key.partition(" ")
    if path.startswith(FUNCTION_URL_PREFIX):
        name = path[len(FUNCTION_URL_PREFIX) :].split("/", 1)[0]
        if http.url(name) is None:
            have = ", ".join(u.function for u in http.urls) or "none"
            raise fail(f"--http: {name} has no function URL in {manifest.name} (URLs: {have})")
        return name
    # as declared; else an ANY route of the path; else an API's $default route (any path)
    found = (
        [r for r in routes if r.route_key == route_key]
        or [r for r in routes if r.path == path and r.method == "ANY"]
        or [r for r in routes if r.route_key == "$default"]
    )
    if not found:
        have = ", ".join(sorted({r.route_key for r in routes})) or "none"
        raise fail(f"--http: no route '{route_key}' in {manifest.name} (routes: {have})")
    if function and function != found[0].function:
        raise fail(f"--http: '{route_key}' invokes {found[0].function}, not {function}")
    return found[0].function


def _check_stream_url(manifest: Path, function: str) -> None:
    """--stream through the function URL: the function must have one; a BUFFERED one answers
    whole (the first byte comes with the last), which the run would measure as such."""
    from emulator.errors import ManifestError
    from emulator.manifests import load_http

    try:
        url = load_http(manifest, cli_common.load_functions(manifest)).url(function)
    except ManifestError as exc:
        raise fail(str(exc)) from None
    if url is None:
        raise fail(
            f"--stream: {function} has no function URL in {manifest.name}: declare one "
            '(url = { invoke_mode = "RESPONSE_STREAM" }), or --stream-via invoke'
        )
    if url.invoke_mode != "RESPONSE_STREAM":
        typer.echo(
            f"lambda-emu load: {function}'s function URL is {url.invoke_mode}: it answers "
            "whole, so its first byte comes with its last",
            err=True,
        )
