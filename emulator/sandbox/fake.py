"""The fake sandbox: an in-memory runtime for the engine's own tests, with no process at all.

Its runtime is an asyncio task that speaks the real Runtime API over a real loopback socket
(the environment's own listener), so the pool, the environment's state machine and the Invoke
API are exercised exactly as with a process; only the function is simulated. It lets scaling
and lifecycle logic be tested in milliseconds. It is never a way to run user code.

What the runtime does, from the event (a JSON object; anything else is echoed):

    {"sleep": S}      answer {"slept": S} after S seconds
    {"fail": "msg"}   POST /error with {"errorType": "FakeError", "errorMessage": "msg"}
    {"exit": N}       exit with status N (N < 0: killed by signal -N) before answering
    {"print": "x"}    write the line x to its output, then echo the event
    anything else     {"echo": event}

and from the function's environment at init: `FAKE_INIT_SLEEP` (seconds before the first
/next), `FAKE_INIT_ERROR` (POST /init/error, then exit 1), `FAKE_MEMORY_MB` (its Max Memory
Used).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from typing import TYPE_CHECKING, Any

from emulator import wire
from emulator.config import FunctionConfig
from emulator.sandbox.base import ExitStatus, OutputCallback, SandboxSpec
from emulator.sandbox.runtimes import RuntimeCommand

if TYPE_CHECKING:
    from emulator.sandbox.registry import SandboxSettings


class _Exit(Exception):
    def __init__(self, status: ExitStatus) -> None:
        super().__init__(status.describe())
        self.status = status


class FakeSandbox:
    kind = "fake"

    def __init__(self, spec: SandboxSpec, on_output: OutputCallback) -> None:
        self.spec = spec
        self._on_output = on_output
        self._task: asyncio.Task[None] | None = None
        self._ports: set[int] = set()
        self._running = asyncio.Event()
        self._running.set()
        self.exited: asyncio.Future[ExitStatus] = asyncio.get_running_loop().create_future()
        self.frozen = False
        self.freezes = 0
        self.peak = int(spec.env.get("FAKE_MEMORY_MB", "40")) * 1024 * 1024

    @property
    def pid(self) -> int | None:
        return None

    async def stage(self) -> None:
        return None

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._runtime())

    def init_finished(self) -> None:
        return None

    def freeze(self) -> None:
        if not self.frozen:
            self.frozen = True
            self.freezes += 1
            self._running.clear()

    def thaw(self) -> None:
        self.frozen = False
        self._running.set()

    def drain_output(self) -> None:
        return None  # lines are delivered as they are written

    def peak_memory_bytes(self) -> int:
        return self.peak

    def memory_current_bytes(self) -> int:
        return self.peak

    def cpu_seconds(self) -> tuple[float, float]:
        return 0.0, 0.0

    def admits(self, peer: tuple[str, int], port: int) -> bool:
        return peer[1] in self._ports  # the runtime's own connections only

    async def stop(self, grace_s: float = 0.0) -> None:
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._exit(ExitStatus(-9))

    # --- the runtime ------------------------------------------------------------------------
    def _exit(self, status: ExitStatus) -> None:
        if not self.exited.done():
            self.exited.set_result(status)

    def _print(self, line: str) -> None:
        self._on_output(line.encode() + b"\n")

    async def _runtime(self) -> None:
        env = self.spec.env
        host, _, port = env["AWS_LAMBDA_RUNTIME_API"].rpartition(":")
        writer: asyncio.StreamWriter | None = None
        try:
            # bound before it connects: the listener's owner check sees a known port at once
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            self._ports.add(sock.getsockname()[1])
            sock.setblocking(False)
            try:
                await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
            except OSError:
                sock.close()
                raise
            reader, writer = await asyncio.open_connection(sock=sock)
            client = _Http(reader, writer)
            await asyncio.sleep(float(env.get("FAKE_INIT_SLEEP", "0")))
            if env.get("FAKE_INIT_ERROR"):
                body = {"errorType": "FakeInitError", "errorMessage": env["FAKE_INIT_ERROR"]}
                await client.post(f"{wire.RUNTIME_PREFIX}/init/error", body, "FakeInitError")
                raise _Exit(ExitStatus(1))
            while True:
                headers, event = await client.get(wire.RUNTIME_NEXT)
                await self._running.wait()  # frozen: the runtime does nothing until thawed
                request_id = headers["lambda-runtime-aws-request-id"]
                await self._handle(client, request_id, event)
        except _Exit as stop:
            self._exit(stop.status)
        except (OSError, asyncio.IncompleteReadError):
            self._exit(ExitStatus(0))  # the listener went away: the environment is gone
        finally:
            if writer is not None:
                writer.close()  # a process's sockets close with it

    async def _handle(self, client: _Http, request_id: str, raw: bytes) -> None:
        try:
            event: Any = json.loads(raw)
        except ValueError:
            event = raw.decode("utf-8", "replace")
        base = f"{wire.RUNTIME_PREFIX}/invocation/{request_id}"
        if not isinstance(event, dict):
            await client.post(f"{base}/response", {"echo": event})
            return
        if "print" in event:
            self._print(str(event["print"]))
        if "sleep" in event:
            await asyncio.sleep(float(event["sleep"]))
            await client.post(f"{base}/response", {"slept": event["sleep"]})
        elif "fail" in event:
            body = {"errorType": "FakeError", "errorMessage": str(event["fail"])}
            await client.post(f"{base}/error", body, "FakeError")
        elif "exit" in event:
            raise _Exit(ExitStatus(int(event["exit"])))
        else:
            await client.post(f"{base}/response", {"echo": event})


class _Http:
    """A minimal HTTP/1.1 client on one kept-alive connection, as a runtime client has."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    async def get(self, path: str) -> tuple[dict[str, str], bytes]:
        self._writer.write(f"GET {path} HTTP/1.1\r\nHost: runtime\r\n\r\n".encode())
        return await self._response()

    async def post(self, path: str, body: object, error_type: str | None = None) -> None:
        data = json.dumps(body).encode()
        head = f"POST {path} HTTP/1.1\r\nHost: runtime\r\nContent-Length: {len(data)}\r\n"
        head += "Content-Type: application/json\r\n"
        if error_type is not None:
            head += f"{wire.H_FUNCTION_ERROR_TYPE}: {error_type}\r\n"
        self._writer.write(head.encode() + b"\r\n" + data)
        await self._response()

    async def _response(self) -> tuple[dict[str, str], bytes]:
        await self._writer.drain()
        head = await self._reader.readuntil(b"\r\n\r\n")
        headers: dict[str, str] = {}
        for line in head.decode("latin-1").split("\r\n")[1:]:
            if ":" in line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        body = await self._reader.readexactly(int(headers.get("content-length", "0")))
        return headers, body


class FakeSandboxFactory:
    kind = "fake"

    def stages(self, function: str) -> bool:
        return False

    def prepare(self, fn: FunctionConfig) -> RuntimeCommand:
        return RuntimeCommand(argv=("fake-runtime", fn.handler))

    def runtime_api_host(self, fn: FunctionConfig) -> tuple[str, str]:
        return "127.0.0.1", "127.0.0.1"

    def create(self, spec: SandboxSpec, on_output: OutputCallback) -> FakeSandbox:
        return FakeSandbox(spec, on_output)

    def describe(self) -> str:
        return "fake sandbox: no limits, no processes (tests only)"

    def remove_stale(self) -> list[str]:
        return []

    def close(self) -> None:
        return None


def factory(settings: SandboxSettings) -> FakeSandboxFactory:
    return FakeSandboxFactory()
