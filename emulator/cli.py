"""`lambda-emu`: the command line. Each command parses its flags into config and calls into
the package; heavy modules are imported inside the commands so `--help` stays instant."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from emulator import cli_common
from emulator.cli_common import (
    EnvFileOpt,
    EnvVarsOpt,
    ManifestOpt,
    ParameterOverridesOpt,
    fail,
    function,
    load_functions,
    load_http_config,
    manifest_path,
    overridden,
    read_overrides,
)

if TYPE_CHECKING:
    from emulator.client import InvokeResult
    from emulator.config import EmulatorConfig, FunctionConfig
    from emulator.engine.pool import FunctionPool
    from emulator.server import Emulator

app = typer.Typer(
    name="lambda-emu",
    help="A local AWS Lambda emulator and load-testing harness.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _runtime_images(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        runtime, sep, image = item.partition("=")
        if not sep or not runtime or not image:
            raise fail(f"--runtime-image: must be RUNTIME=IMAGE, got {item!r}")
        out[runtime] = image
    return out


def _emulator_config(functions: tuple[FunctionConfig, ...], **kwargs: object) -> EmulatorConfig:
    from emulator.config import EmulatorConfig

    clean = {k: v for k, v in kwargs.items() if v is not None}
    return EmulatorConfig(functions=functions, **clean)  # type: ignore[arg-type]


def _check_sandbox(sandbox: str) -> str:
    """The sandbox `serve` runs. `auto`: PackageType Image functions in docker, the others in
    processes (see emulator.sandbox.registry.choose); `docker` needs an engine that answers;
    `portable` runs plain processes with no limits, as on macOS and Windows."""
    if sandbox not in ("auto", "process", "docker", "portable"):
        raise fail(f"--sandbox: must be auto, process, docker or portable, got {sandbox!r}")
    if sandbox == "docker":
        from emulator.sandbox.docker import engine_answers

        if not engine_answers():
            raise fail("--sandbox docker: no Docker engine answers (scripts/setup-docker)")
    return sandbox


def _has_manifest(directory: Path) -> bool:
    from emulator.errors import ManifestError
    from emulator.manifests import find_manifest

    try:
        find_manifest(directory)
    except ManifestError:
        return False
    return True


@app.command()
def serve(
    manifest: ManifestOpt = None,
    host: Annotated[str, typer.Option(help="Address of the Invoke API.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the Invoke API (0: any free port).")] = 9000,
    api_port: Annotated[
        int,
        typer.Option(
            help="Port of the manifest's API Gateway routes (0: any free port); function URLs "
            "are on --port under /lambda-url/<FunctionName>/."
        ),
    ] = 3000,
    sandbox: Annotated[str, typer.Option(help="auto | process | docker | portable")] = "auto",
    keep_alive: Annotated[float, typer.Option(help="Seconds an idle environment lives.")] = 600.0,
    account_concurrency: Annotated[
        int, typer.Option(help="Account-wide concurrency limit.")
    ] = 1000,
    init_timeout: Annotated[float, typer.Option(help="Init phase limit in seconds.")] = 10.0,
    event_retry_scale: Annotated[
        float, typer.Option(help="Factor on Lambda's Event retry delays (1 min, 2 min).")
    ] = 1.0,
    state_dir: Annotated[Path, typer.Option(help="Logs and traces go here.")] = Path(".lambda-emu"),
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Function logs to files only.")
    ] = False,
    cgroups: Annotated[str, typer.Option(help="auto | v2 | v1 | off")] = "auto",
    freeze: Annotated[
        bool, typer.Option(help="Freeze environments between invocations, as Lambda does.")
    ] = True,
    private_tmp: Annotated[
        bool, typer.Option(help="A private /tmp per environment (needs root).")
    ] = True,
    cpu_period_us: Annotated[int, typer.Option(help="CFS period of the CPU quota (µs).")] = 20_000,
    function_user: Annotated[
        str,
        typer.Option(help="As root, functions run as this user: auto (nobody), NAME or root."),
    ] = "auto",
    sample_interval: Annotated[
        float, typer.Option(help="Seconds between resource samples (0: off).")
    ] = 0.5,
    docker_api_only: Annotated[
        bool,
        typer.Option(
            "--docker-api-only",
            help="Docker sandbox: change containers only through the engine's API (compose).",
        ),
    ] = False,
    docker_cgroups: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="Docker sandbox: the engine host's cgroup tree, mounted read-only."),
    ] = None,
    base_images: Annotated[
        str,
        typer.Option(
            help="Docker sandbox: auto (AWS's base images where they can be had, else the local "
            "ones) | aws | local."
        ),
    ] = "auto",
    runtime_image: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option(
            metavar="RUNTIME=IMAGE", help="Docker sandbox: run RUNTIME's zip functions on IMAGE."
        ),
    ] = None,
    reload: Annotated[
        bool,
        typer.Option(help="Serve changed code and manifest entries from fresh environments."),
    ] = True,
    parameter_overrides: ParameterOverridesOpt = None,
    debug: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            metavar="FUNCTION[:PORT]",
            help="Run this function under a debugger (debugpy: 5678, node: 9229) that your "
            "IDE attaches to: one environment, 10 h timeout, no CPU quota (docs/debugging.md).",
        ),
    ] = None,
    env_vars: EnvVarsOpt = None,
    env_file: EnvFileOpt = None,
    idle_timeout: Annotated[
        float, typer.Option(help="Close a connection idle this long, seconds (0: never).")
    ] = 60.0,
    header_timeout: Annotated[
        float, typer.Option(help="408 a request head not complete in this time (0: never).")
    ] = 10.0,
    body_timeout: Annotated[
        float, typer.Option(help="408 a request body not complete in this time (0: never).")
    ] = 60.0,
    fresh: Annotated[
        bool,
        typer.Option(
            "--fresh",
            help="Start without the functions an earlier run created through the Lambda API "
            "(they live in --state-dir/functions).",
        ),
    ] = False,
    s3_dir: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            help="CreateFunction's S3Bucket/S3Key read <s3-dir>/<bucket>/<key> "
            "(default: --state-dir/s3)."
        ),
    ] = None,
) -> None:
    """Serve the Invoke API for the manifest's functions (boto3, AWS CLI, SDKs), and its API
    Gateway routes and function URLs."""
    if debug is not None and sandbox == "docker":
        raise fail("--debug: needs the process sandbox (--sandbox auto or process)")
    kind = _check_sandbox(sandbox)
    params = cli_common.parameter_overrides(parameter_overrides)
    overrides = read_overrides(env_file, env_vars, debug)
    found: Path | None = None
    if manifest is not None or _has_manifest(Path.cwd()):
        found = manifest_path(manifest)
        functions = overridden(load_functions(found, params), overrides)
        http = load_http_config(found, functions, params)
    else:  # only the functions created through the Lambda API (docs/control-plane.md)
        from emulator.frontdoor.model import HttpConfig

        functions, http = (), HttpConfig()
        typer.echo(
            "lambda-emu: no lambda-emu.toml or template.yaml here: serving the functions "
            "created through the Lambda API only",
            err=True,
        )
    from emulator.frontdoor.sigv4 import local_credentials

    cfg = _emulator_config(
        functions,
        host=host,
        port=port,
        api_port=api_port,
        http=http,
        credentials=local_credentials(os.environ, Path.home()),
        sandbox=kind,
        keep_alive_s=keep_alive,
        account_concurrency=account_concurrency,
        init_timeout_s=init_timeout,
        event_retry_delay_scale=event_retry_scale,
        state_dir=state_dir.resolve(),
        log_to_terminal=not quiet,
        cgroups=cgroups,
        freeze=freeze,
        private_tmp=private_tmp,
        cpu_period_us=cpu_period_us,
        function_user=function_user,
        sample_interval_s=sample_interval,
        idle_timeout_s=idle_timeout,
        header_timeout_s=header_timeout,
        body_timeout_s=body_timeout,
        docker_api_only=docker_api_only,
        docker_cgroups=docker_cgroups,
        base_images=base_images,
        runtime_images=_runtime_images(runtime_image or []),
        manifest_path=found,
        hot_reload=reload,
        parameter_overrides=params,
        overrides=overrides,
        fresh=fresh,
        s3_dir=s3_dir.resolve() if s3_dir is not None else None,
    )
    if base_images not in ("auto", "aws", "local"):
        raise fail(f"--base-images: must be auto, aws or local, got {base_images!r}")
    if cgroups not in ("auto", "v2", "v1", "off"):
        raise fail(f"--cgroups: must be auto, v2, v1 or off, got {cgroups!r}")
    if host not in ("127.0.0.1", "localhost", "::1"):
        typer.echo(
            f"lambda-emu: warning: the Invoke API is bound to {host}, not loopback: anyone who "
            "reaches this address can run your functions",
            err=True,
        )

    from emulator.errors import LambdaEmuError
    from emulator.server import run

    def started(emu: Emulator) -> None:
        names = ", ".join(emu.functions)
        typer.echo(f"lambda-emu: {emu.limits}", err=True)
        typer.echo(
            f"lambda-emu: Invoke API on {emu.url} ({len(emu.functions)} functions: {names})",
            err=True,
        )
        from emulator.frontdoor.listing import describe_line

        for entry in emu.http_routes():
            typer.echo(f"lambda-emu: {describe_line(entry)}", err=True)
        for fn in functions:
            if fn.debug_port is not None:
                typer.echo(f"lambda-emu: {_debug_line(fn)}", err=True)

    from emulator import loops

    try:
        loops.run(run(cfg, on_started=started))
    except LambdaEmuError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        ports = f"{port}" if not http.routes else f"{port} or {api_port}"
        raise fail(f"cannot listen on {host}:{ports}: {exc.strerror}") from None


@app.command()
def invoke(
    name: Annotated[str, typer.Argument(help="Function name.")],
    payload: Annotated[str, typer.Option(help="JSON payload.")] = "{}",
    payload_file: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="Read the payload from this file."),
    ] = None,
    memory: Annotated[Optional[int], typer.Option(help="Override MemorySize (MB).")] = None,  # noqa: UP045
    timeout: Annotated[Optional[int], typer.Option(help="Override Timeout (s).")] = None,  # noqa: UP045
    manifest: ManifestOpt = None,
    endpoint: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Invoke through a running emulator (or Lambda) at this URL instead."),
    ] = None,
    parameter_overrides: ParameterOverridesOpt = None,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            help="Wait for a debugger to attach (debugpy / node inspector; docs/debugging.md).",
        ),
    ] = False,
    debug_port: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(help="With --debug: the debugger's port (default: 5678 python, 9229 node)."),
    ] = None,
    env_vars: EnvVarsOpt = None,
    env_file: EnvFileOpt = None,
) -> None:
    """Invoke one function once and print its result and REPORT line."""
    body = payload_file.read_bytes() if payload_file is not None else payload.encode()
    if endpoint is not None and (debug or env_vars or env_file):
        raise fail("--endpoint: --debug, --env-vars and --env-file configure a local run only")
    if endpoint is not None:
        from emulator.client import InvokeClient

        with InvokeClient(endpoint) as client:
            _print_result(client.invoke(name, raw=body))
        return

    from dataclasses import replace

    from emulator.config import MEMORY_MAX_MB, MEMORY_MIN_MB, TIMEOUT_MAX_S, TIMEOUT_MIN_S

    if memory is not None and not MEMORY_MIN_MB <= memory <= MEMORY_MAX_MB:
        raise fail(f"--memory: must be from {MEMORY_MIN_MB} to {MEMORY_MAX_MB} MB, got {memory}")
    if timeout is not None and not TIMEOUT_MIN_S <= timeout <= TIMEOUT_MAX_S:
        raise fail(f"--timeout: must be from {TIMEOUT_MIN_S} to {TIMEOUT_MAX_S} s, got {timeout}")
    from emulator.arns import split_function_name

    name, qualifier = split_function_name(name)  # NAME, NAME:1, NAME:live, an ARN
    params = cli_common.parameter_overrides(parameter_overrides)
    target = None
    if debug:
        target = f"{name}:{debug_port}" if debug_port is not None else name
    overrides = read_overrides(env_file, env_vars, target)
    fn = function(overridden(load_functions(manifest, params), overrides), name)
    known = ("$LATEST", *(v.version for v in fn.versions), *(a.name for a in fn.aliases))
    if qualifier is not None and qualifier not in known:
        raise fail(
            f"function '{name}' has no version or alias '{qualifier}' (have: {', '.join(known)})"
        )
    # one invocation: nothing provisioned ahead of it, on any version or alias
    fn = replace(
        fn.with_overrides(memory_mb=memory, timeout_s=None if debug else timeout),
        provisioned_concurrency=0,
        versions=tuple(replace(v, provisioned_concurrency=0) for v in fn.versions),
        aliases=tuple(replace(a, provisioned_concurrency=0) for a in fn.aliases),
    )
    cfg = _emulator_config(
        (fn,), port=0, log_to_terminal=False, state_dir=Path(".lambda-emu").resolve()
    )
    if fn.debug_port is not None:
        typer.echo(f"lambda-emu: {_debug_line(fn)}", err=True)

    async def once() -> InvokeResult:
        from emulator.client import AsyncInvokeClient
        from emulator.server import Emulator

        emu = Emulator(cfg)
        try:
            await emu.start()
            # under --debug the answer waits as long as the debugger holds the function: for
            # the attach (init) and then the handler, each bounded by the 10 h debug timeout
            wait = 960.0 if fn.debug_port is None else 2 * fn.timeout_s + 60.0
            async with AsyncInvokeClient(emu.url, timeout=wait) as client:
                result = await client.invoke(name, raw=body, qualifier=qualifier)
            pool = emu.functions.resolve(name, result.executed_version or qualifier)
            if "REPORT RequestId" not in result.log and pool is not None:
                # With extensions the answer leaves before the invoke phase ends (and before
                # REPORT): wait for the phase, then show its END and REPORT lines too.
                result.log = result.log.rstrip("\n") + await _report_lines(
                    emu, pool, result.request_id
                )
        finally:
            await emu.stop()
        return result

    from emulator import loops
    from emulator.errors import LambdaEmuError

    try:
        result = loops.run(once())
    except LambdaEmuError as exc:
        raise fail(str(exc)) from None
    _print_result(result)


def _debug_line(fn: FunctionConfig) -> str:
    from emulator.overrides import debug_family

    tool = "debugpy" if debug_family(fn.runtime) == "python" else "node inspector"
    return (
        f"function '{fn.name}' is in debug mode: attach to 127.0.0.1:{fn.debug_port} ({tool}); "
        "its environment waits for the debugger when it starts (at its first invocation), "
        f"runs alone (concurrent invocations: 429), timeout {fn.timeout_s} s, no CPU quota"
    )


async def _report_lines(emu: Emulator, pool: FunctionPool, request_id: str) -> str:
    import asyncio
    import time

    name = pool.fn.name
    deadline = time.monotonic() + pool.fn.timeout_s + 1
    while pool.busy_count and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    emu.logs.flush()
    path = emu.cfg.state_dir / "logs" / f"{name}.log"
    lines = path.read_text(errors="replace").splitlines() if path.exists() else []
    ours = [ln for ln in lines if request_id and request_id in ln]
    return "".join(f"\n{ln}" for ln in ours if ln.startswith(("END RequestId", "REPORT RequestId")))


def _print_result(result: InvokeResult) -> None:
    sys.stdout.write(result.payload.decode(errors="replace") + "\n")
    sys.stdout.flush()
    for line in result.log.splitlines():
        typer.echo(line, err=True)
    if result.function_error:
        typer.echo(f"FunctionError: {result.function_error}", err=True)
    if result.status >= 400:
        raise typer.Exit(1)


@app.command()
def doctor() -> None:
    """What this machine can enforce, and which sandbox `auto` picks."""
    from emulator.doctor import report

    typer.echo(report(os.environ))


def _register_commands() -> None:
    # Each capability keeps its commands in its own module; they import their heavy parts
    # (matplotlib, locust, docker) inside the command bodies, so `--help` stays instant.
    from emulator import cli_images, cli_lessons, cli_load, cli_model, cli_tune

    for module in (cli_tune, cli_load, cli_model, cli_images, cli_lessons):
        module.register(app)


_register_commands()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
