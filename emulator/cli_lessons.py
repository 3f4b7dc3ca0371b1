"""lambda-emu lessons / downstream: the sample functions' performance lessons, measured (issue 8).

    lambda-emu lessons [--markdown docs/lessons.md] [--only io]
    lambda-emu downstream [--port 9001] [--delay-ms 100]

`lessons` starts the local downstream service and the emulator (process sandbox, port 0) in
this process, runs each pair of samples in `functions/` (a cold start, then warm invocations)
and prints one table; it exits 1 when a lesson did not show. `downstream` serves the local
downstream service alone, for `lambda-emu serve` / `invoke` of the samples that call it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `lambda-emu` app."""
    app.command()(lessons)
    app.command()(downstream)


def lessons(
    manifest: Annotated[
        Optional[Path],  # noqa: UP045 - typer needs Optional at runtime on 3.11
        typer.Option("--manifest", "-m", help="The samples' manifest (default: functions/)."),
    ] = None,
    markdown: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="Also write the table as Markdown to this file."),
    ] = None,
    only: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Only the lessons whose title contains this text."),
    ] = None,
    state_dir: Annotated[Path, typer.Option(help="Logs and traces of the run go here.")] = Path(
        ".lambda-emu/lessons"
    ),
) -> None:
    """Run every sample pair on the emulator and print the lessons table."""
    import platform
    import time

    from emulator.lessons.measure import (
        LESSONS,
        SAMPLES_MANIFEST,
        LessonBench,
        run_lessons,
        sizes_of,
    )
    from emulator.lessons.table import render_markdown, render_text

    chosen = [ls for ls in LESSONS if only is None or only.lower() in ls.title.lower()]
    if not chosen:
        raise typer.BadParameter(f"no lesson's title contains {only!r}", param_hint="--only")
    names = {v.function for ls in chosen for v in (ls.a, ls.b)}
    bench = LessonBench(
        state_dir,
        manifest=(manifest or SAMPLES_MANIFEST).resolve(),
        names=sorted(names),
        sizes=sizes_of(chosen),
    )
    started = time.monotonic()
    bench.start()
    try:
        typer.echo(f"lessons: downstream service on {bench.downstream.url}", err=True)
        rows = run_lessons(bench, chosen, progress=lambda m: typer.echo(f"  {m}", err=True))
    finally:
        bench.stop()
    typer.echo(render_text(rows))
    failed = [r for r in rows if r.problem is not None]
    typer.echo(
        f"\n{len(rows) - len(failed)} of {len(rows)} lessons shown "
        f"({time.monotonic() - started:.0f} s on {platform.node()}, {platform.machine()})"
    )
    if markdown is not None:
        markdown.parent.mkdir(parents=True, exist_ok=True)
        markdown.write_text(render_markdown(rows) + "\n")
        typer.echo(f"wrote {markdown}", err=True)
    if failed:
        sys.exit(1)


def downstream(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0: any free port).")] = 9001,
    delay_ms: Annotated[float, typer.Option(help="Delay of every data route (ms).")] = 100.0,
) -> None:
    """Serve the samples' local downstream service (users, posts, comments, files, secrets)."""
    import asyncio

    from emulator.lessons.downstream import DownstreamConfig, DownstreamService
    from emulator.loops import stop_on_signals

    async def serve() -> None:
        service = DownstreamService(DownstreamConfig(host=host, port=port, delay_ms=delay_ms))
        with stop_on_signals() as stop:
            await service.start()
            typer.echo(f"downstream: serving on {service.url} ({delay_ms:g} ms per call)", err=True)
            try:
                await stop.wait()
            finally:
                await service.stop()

    asyncio.run(serve())
