"""Hot reload: a changed function is served by fresh environments, without a restart.

The watcher (watchfiles) follows the manifest's directory and every function's code directory.
After a burst of changes settles:

- a changed manifest is parsed again; a broken one is reported in one line and the functions
  keep running as they were;
- a function whose manifest entry or code changed is reloaded: new invocations go to fresh
  environments, running ones finish, old ones are drained and removed (`FunctionPool.reload`);
- a function added to the manifest is served, a removed one answers ResourceNotFound;
- a changed `--env-file` or `--env-vars` file is read again and applied like a manifest
  change (emulator/overrides.py: the overrides are applied to every re-read manifest).
- the manifest's HTTP front door (APIs, routes, function URLs) is read again with it and
  served from then on (`on_http`).

Lambda has no such thing (a deployment publishes new code, and new environments pick it up);
this is the local counterpart of `sam sync --watch`. Sandbox-neutral: the pool does the work.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from emulator.config import FunctionConfig
from emulator.errors import ManifestError
from emulator.manifests import StackSettings, load_http, load_manifest

if TYPE_CHECKING:
    from emulator.engine.functions import FunctionRegistry
    from emulator.frontdoor.model import HttpConfig
    from emulator.overrides import FunctionOverrides

# Directories whose changes never mean new code: build trees, caches, our own state.
IGNORED_DIRS = frozenset({"__pycache__", ".git", "target", ".mypy_cache", ".ruff_cache"})
DEBOUNCE_MS = 300
# The watcher yields an empty batch after this long without changes: the first one tells us
# it is live (watchfiles has no other "ready" signal).
IDLE_YIELD_MS = 200
WATCH_READY_S = 5.0

# what the watcher's thread hands the loop: a batch of (change, path), or how it ended
_Batch = set[tuple[object, str]] | Exception | None


def changed_functions(functions: Iterable[FunctionConfig], paths: Iterable[Path]) -> set[str]:
    """Names of the functions whose code or layer directories hold one of `paths`."""
    resolved = [p.resolve() for p in paths]
    return {
        fn.name
        for fn in functions
        if any(p == d or d in p.parents for p in resolved for d in (fn.code_dir, *fn.layers))
    }


def relevant(path: Path, ignored_roots: Iterable[Path]) -> bool:
    if any(part in IGNORED_DIRS for part in path.parts) or path.suffix in (".pyc", ".swp"):
        return False
    return not any(root == path or root in path.parents for root in ignored_roots)


class Reloader:
    """Watches the manifest and the code, and applies changes to the function registry."""

    def __init__(
        self,
        functions: FunctionRegistry,
        manifest: Path,
        state_dir: Path,
        warn: Callable[[str], None],
        *,
        overrides: FunctionOverrides | None = None,
        http: HttpConfig | None = None,
        on_http: Callable[[HttpConfig], Awaitable[None]] | None = None,
        settings: StackSettings | None = None,
    ) -> None:
        self.functions = functions
        self.http = http  # the front door served now
        self.on_http = on_http
        self.settings = settings  # a SAM template's --parameter-overrides, region, account
        self.manifest = manifest.resolve()
        self.overrides = overrides
        self.state_dir = state_dir
        self.warn = warn
        self.reloads = 0  # for tests and /_emu/health
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._watching = asyncio.Event()
        self._thread_stop = threading.Event()

    async def start(self) -> None:
        """Start watching; returns once the watcher is live, so no edit made after `serve`
        printed its address is missed, or after WATCH_READY_S, saying so: the watcher walks
        every directory it follows (in a thread: a huge tree never holds up serving)."""
        self._task = asyncio.get_running_loop().create_task(self._watch())
        try:
            await asyncio.wait_for(asyncio.shield(self._watching.wait()), WATCH_READY_S)
        except TimeoutError:
            self.warn(
                f"hot reload: the watcher is still walking {', '.join(map(str, self._roots()))}"
                " (a large tree); edits made before it is live are not seen"
            )

    async def stop(self) -> None:
        self._stop.set()
        self._thread_stop.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _roots(self) -> list[Path]:
        roots = {self.manifest.parent}
        if self.overrides is not None:
            roots |= {p.parent for p in self.overrides.sources}
        for fn in self.functions.configs():
            for folder in (fn.code_dir, *fn.layers):
                if folder.exists() and not any(r == folder or r in folder.parents for r in roots):
                    roots.add(folder)
        return sorted(roots)

    async def _watch(self) -> None:
        ignored = [self.state_dir]
        loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            roots = self._roots()
            batches: asyncio.Queue[_Batch] = asyncio.Queue()
            stop = self._thread_stop = threading.Event()
            threading.Thread(
                target=_watch_in_thread,
                args=(roots, stop, loop, batches),
                name="lambda-emu-reload",
                daemon=True,  # it may still be walking a huge tree when the emulator stops
            ).start()
            try:
                while isinstance(changes := await batches.get(), set):
                    self._watching.set()
                    paths = [p for p in (Path(p) for _, p in changes) if relevant(p, ignored)]
                    if not paths:
                        continue
                    try:
                        await self.apply(paths)
                    except Exception as exc:  # never let a reload take the emulator down
                        self.warn(f"hot reload failed: {exc!r}")
                    if self._roots() != roots:
                        break  # a code directory appeared or moved: watch the new set
            finally:
                stop.set()
            if isinstance(changes, Exception):
                self.warn(f"hot reload stopped: the watcher failed: {changes!r}")
                return

    async def apply(self, paths: list[Path]) -> None:
        # the manifest's functions only: those created through the Lambda API (no source)
        # are the control plane's (docs/control-plane.md)
        old = {fn.name: fn for fn in self.functions.configs() if fn.source is not None}
        new = old
        http: HttpConfig | None = None
        resolved = {p.resolve() for p in paths}
        overrides = self.overrides
        reread = overrides is not None and bool(resolved & set(overrides.sources))
        if self.manifest in resolved or reread:
            try:
                if overrides is not None and reread:
                    overrides = overrides.reread()
                functions = load_manifest(self.manifest, self.settings)
                if self.on_http is not None:
                    http = load_http(self.manifest, functions, self.settings)
            except ManifestError as exc:
                self.warn(f"hot reload: {exc} (still serving the previous configuration)")
                return
            if overrides is not None:
                for note in overrides.notes(functions):
                    self.warn(f"hot reload: {note}")
                functions = overrides.apply(functions)
            self.overrides = overrides
            new = {fn.name: fn for fn in functions}
        touched = changed_functions(new.values(), paths)
        touched |= {name for name, fn in new.items() if name in old and old[name] != fn}
        added = [fn for name, fn in new.items() if name not in old]
        removed = [name for name in old if name not in new]
        for name in removed:
            await self.functions.remove(name)
            self.warn(f"hot reload: function '{name}' removed")
        for fn in added:
            await self.functions.add(fn)
            self.warn(f"hot reload: function '{fn.name}' added")
        for name in sorted(touched - {fn.name for fn in added}):
            await self.functions.reload(new[name])
            self.warn(f"hot reload: function '{name}' reloaded; new invocations start cold")
        http_changed = http is not None and http != self.http
        if http is not None and http_changed and self.on_http is not None:
            self.http = http
            await self.on_http(http)  # after the functions it names are served
            self.warn("hot reload: HTTP routes and function URLs updated")
        if touched or added or removed or http_changed:
            self.reloads += 1


def _watch_in_thread(
    roots: list[Path],
    stop: threading.Event,
    loop: asyncio.AbstractEventLoop,
    batches: asyncio.Queue[_Batch],
) -> None:
    """watchfiles' blocking watcher: setting it up walks every directory under `roots`, which
    must not hold up the event loop. Each batch (an empty one every IDLE_YIELD_MS: the first
    says the watcher is live) goes to the loop; then None when the watcher ends, or the
    exception that ended it."""
    import watchfiles

    def put(item: _Batch) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed first
            loop.call_soon_threadsafe(batches.put_nowait, item)

    end: _Batch = None
    try:
        for changes in watchfiles.watch(
            *roots,
            stop_event=stop,
            debounce=DEBOUNCE_MS,
            recursive=True,
            ignore_permission_denied=True,
            rust_timeout=IDLE_YIELD_MS,
            yield_on_timeout=True,
            raise_interrupt=False,
        ):
            if stop.is_set():
                break
            put(set(changes))
    except Exception as exc:  # a root gone, no inotify watches left: said by the loop
        end = exc
    finally:
        put(end)
