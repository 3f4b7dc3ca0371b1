"""`--debug`: a real debugpy client attaches to a function served by `lambda-emu serve`, stops
at a breakpoint in its handler, reads a local variable, continues, and the invocation returns
(issue 20, item 1). Everything here is real: the CLI, awslambdaric under debugpy, the DAP
conversation an IDE would have."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from dap import PROGRESS_S, DapClient
from serving import Serve, free_port
from typer.testing import CliRunner

from emulator.cli import app
from emulator.config import FunctionConfig
from emulator.overrides import DEBUG_TIMEOUT_S, DebugTarget, FunctionOverrides

FUNCTIONS = Path(__file__).parent / "functions" / "debug"
MANIFEST = FUNCTIONS / "lambda-emu.toml"
HANDLER = FUNCTIONS / "debuggee" / "app.py"


def _break_line() -> int:
    lines = HANDLER.read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if "# BREAK" in line)


def _attach(port: int, serve: Serve) -> DapClient:
    """Connect once the debugger listens: retried while serve runs (progress, not time)."""
    deadline = time.monotonic() + PROGRESS_S
    while True:
        try:
            return DapClient.connect(port)
        except ConnectionRefusedError:
            if serve.proc.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _invoke(url: str, event: dict[str, Any], answers: dict[str, httpx.Response]) -> None:
    """One invocation that waits as long as the debugger holds it (a thread's body: an
    emulator stopped under it is the test's own doing, not an error of the thread)."""
    with contextlib.suppress(httpx.HTTPError):
        answers["first"] = httpx.post(url, json=event, timeout=None)


def _cpu_quota(pid: int) -> str | None:
    """The CPU limit of `pid`'s cgroup ("max" for none), where a cgroup controls CPU."""
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controllers == "" and Path(f"/sys/fs/cgroup{path}/cpu.max").exists():
            return Path(f"/sys/fs/cgroup{path}/cpu.max").read_text().split()[0]
        if "cpu" in controllers.split(",") and path != "/":
            root = Path("/sys/fs/cgroup") / controllers
            quota = (root / path.lstrip("/") / "cpu.cfs_quota_us").read_text().strip()
            return "max" if quota == "-1" else quota
    return None


def test_a_debugpy_client_stops_at_a_breakpoint_and_reads_a_local(tmp_path: Path) -> None:
    port = free_port()
    serve = Serve(MANIFEST, tmp_path / "state", "--debug", f"debuggee:{port}")
    client: DapClient | None = None
    answers: dict[str, httpx.Response] = {}
    url = f"{serve.url}/2015-03-31/functions/debuggee/invocations"
    invoker = threading.Thread(target=_invoke, args=(url, {"n": 21}, answers), daemon=True)
    try:
        serve.wait_for(rf"'debuggee' is in debug mode: attach to 127\.0\.0\.1:{port} \(debugpy\)")
        invoker.start()
        serve.wait_for(rf"\[debuggee\] lambda-emu: waiting for a debugger on 127\.0\.0\.1:{port}")
        client = _attach(port, serve)
        client.request(
            "initialize",
            clientID="lambda-emu-tests",
            adapterID="python",
            pathFormat="path",
            linesStartAt1=True,
            columnsStartAt1=True,
        )
        attach = client.send("attach", justMyCode=True)
        client.event("initialized")
        placed = client.request(
            "setBreakpoints", source={"path": str(HANDLER)}, breakpoints=[{"line": _break_line()}]
        )
        assert placed["breakpoints"][0]["verified"]
        client.request("configurationDone")
        client.response(attach)

        stopped = client.event("stopped")
        assert stopped["reason"] == "breakpoint"
        thread = stopped["threadId"]
        frame = client.request("stackTrace", threadId=thread)["stackFrames"][0]
        assert frame["name"] == "handler"
        assert Path(frame["source"]["path"]) == HANDLER
        assert frame["line"] == _break_line()
        scopes = client.request("scopes", frameId=frame["id"])["scopes"]
        local = next(s for s in scopes if s["name"].lower().startswith("locals"))
        variables = client.request("variables", variablesReference=local["variablesReference"])
        values = {v["name"]: v["value"] for v in variables["variables"]}
        assert values["doubled"] == "42"

        # While the debugger holds it, the function has no second environment: throttled.
        second = httpx.post(url, json={"n": 1}, timeout=PROGRESS_S)
        assert second.status_code == 429
        assert second.json()["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"

        client.request("continue", threadId=thread)
        invoker.join(PROGRESS_S)
        assert not invoker.is_alive()
        first = answers["first"]
        assert first.status_code == 200, first.text
        body: dict[str, Any] = first.json()
        assert body["doubled"] == 42
        # SAM CLI's 10 h debug timeout, not the function's 3 s: the deadline is far away
        assert body["remaining_ms"] > 3_000
        request_id = first.headers["x-amzn-RequestId"]
        serve.wait_for(rf"REPORT RequestId: {request_id}\t")
        # no CPU quota under the debugger, where this machine enforces one
        enforced = "CPU MB/1769 vCPU" in serve.output
        assert _cpu_quota(body["pid"]) == ("max" if enforced else None)
        client.request("disconnect")
    finally:
        if client is not None:
            client.close()
        serve.stop()
    assert not Path(f"/proc/{body['pid']}").exists()  # nothing of the environment is left


def _fn(name: str, runtime: str = "python3.12", **kw: Any) -> FunctionConfig:
    return FunctionConfig(
        name=name, runtime=runtime, handler="app.handler", code_dir=Path("/x"), **kw
    )


def test_the_debug_target_parses_and_applies() -> None:
    assert DebugTarget.parse("api") == DebugTarget("api")
    assert DebugTarget.parse("api:6000") == DebugTarget("api", 6000)
    with pytest.raises(ValueError, match="port must be 1 to 65535"):
        DebugTarget.parse("api:http")
    fns = (
        _fn("py", provisioned_concurrency=2, reserved_concurrency=10),
        _fn("node", "nodejs20.x"),
        _fn("rust", "provided.al2023"),
    )
    py, node, rust = FunctionOverrides(debug=DebugTarget("py")).apply(fns)
    assert (py.debug_port, py.timeout_s) == (5678, DEBUG_TIMEOUT_S)
    assert (py.reserved_concurrency, py.provisioned_concurrency) == (1, 0)
    assert node.debug_port is None and rust == fns[2]
    node = FunctionOverrides(debug=DebugTarget("node")).apply(fns)[1]
    assert node.debug_port == 9229
    with pytest.raises(ValueError, match=r"runs provided\.al2023"):
        DebugTarget("rust").check(fns)
    with pytest.raises(ValueError, match=r"no function named 'nope' \(have: py, node, rust\)"):
        DebugTarget("nope").check(fns)


def test_debug_flag_errors_are_one_line() -> None:
    runner = CliRunner()
    for args, expected in (
        (["serve", "-m", str(MANIFEST), "--debug", "nope"], "--debug: no function named 'nope'"),
        (["serve", "-m", str(MANIFEST), "--debug", "debuggee:0"], "port must be 1 to 65535"),
        (
            ["serve", "-m", str(MANIFEST), "--debug", "debuggee", "--sandbox", "docker"],
            "process sandbox",
        ),
        (
            ["invoke", "debuggee", "--endpoint", "http://127.0.0.1:1", "--debug"],
            "configure a local run only",
        ),
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and expected in lines[0], result.output


def _listening(port: int) -> list[str]:
    """Local addresses listening on `port` (/proc/net/tcp: hex address, state 0A)."""
    rows = [ln.split() for ln in Path("/proc/net/tcp").read_text().splitlines()[1:]]
    return [r[1] for r in rows if r[3] == "0A" and r[1].endswith(f":{port:04X}")]


@pytest.mark.skipif(os.geteuid() != 0, reason="checks the function user of a root emulator")
def test_the_debugger_listens_on_loopback_only(tmp_path: Path) -> None:
    """The debugger gives whoever reaches it the function's power: 127.0.0.1, never more."""
    port = free_port()
    serve = Serve(MANIFEST, tmp_path / "state", "--debug", f"debuggee:{port}")
    url = f"{serve.url}/2015-03-31/functions/debuggee/invocations"
    invoker = threading.Thread(target=_invoke, args=(url, {"n": 1}, {}), daemon=True)
    try:
        invoker.start()
        serve.wait_for(r"waiting for a debugger")
        _attach(port, serve).close()
        loopback = f"0100007F:{port:04X}"
        assert _listening(port) == [loopback]
    finally:
        serve.stop()
    assert _listening(port) == []  # the debugger went with its environment


class _Cdp:
    """The Chrome DevTools Protocol over the inspector's websocket: numbered commands, their
    results, and events in between (what VS Code's js-debug speaks to `node --inspect`)."""

    def __init__(self, ws_url: str) -> None:
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=PROGRESS_S)
        self._id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self._id:
                assert "error" not in msg, msg
                result: dict[str, Any] = msg.get("result", {})
                return result
            self.events.append(msg)

    def event(self, method: str) -> dict[str, Any]:
        while True:
            for i, msg in enumerate(self.events):
                if msg.get("method") == method:
                    del self.events[i]
                    params: dict[str, Any] = msg.get("params", {})
                    return params
            self.events.append(json.loads(self.ws.recv()))

    def close(self) -> None:
        self.ws.close()


@pytest.mark.skipif(shutil.which("node") is None, reason="node is needed for the Node.js runtime")
def test_a_node_inspector_client_stops_at_a_breakpoint_and_reads_a_local(tmp_path: Path) -> None:
    handler = FUNCTIONS / "debuggee_node" / "app.mjs"
    line = next(i for i, ln in enumerate(handler.read_text().splitlines()) if "// BREAK" in ln)
    port = free_port()
    serve = Serve(MANIFEST, tmp_path / "state", "--debug", f"debuggee_node:{port}")
    answers: dict[str, httpx.Response] = {}
    url = f"{serve.url}/2015-03-31/functions/debuggee_node/invocations"
    invoker = threading.Thread(target=_invoke, args=(url, {"n": 21}, answers), daemon=True)
    cdp: _Cdp | None = None
    try:
        serve.wait_for(rf"'debuggee_node' is in debug mode: attach to 127\.0\.0\.1:{port}")
        invoker.start()
        serve.wait_for(rf"\[debuggee_node\] Debugger listening on ws://127\.0\.0\.1:{port}/")
        targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=PROGRESS_S).json()
        cdp = _Cdp(targets[0]["webSocketDebuggerUrl"])
        cdp.call("Runtime.enable")
        cdp.call("Debugger.enable")
        placed = cdp.call(
            "Debugger.setBreakpointByUrl", lineNumber=line, url=handler.as_uri(), columnNumber=0
        )
        assert placed["breakpointId"]
        cdp.call("Runtime.runIfWaitingForDebugger")
        paused = cdp.event("Debugger.paused")  # --inspect-brk: before the client's first line
        if not paused.get("hitBreakpoints"):
            cdp.call("Debugger.resume")
            paused = cdp.event("Debugger.paused")
        assert paused["hitBreakpoints"] == [placed["breakpointId"]]
        frame = paused["callFrames"][0]
        local = next(s for s in frame["scopeChain"] if s["type"] == "local")
        props = cdp.call("Runtime.getProperties", objectId=local["object"]["objectId"])
        values = {p["name"]: p.get("value", {}).get("value") for p in props["result"]}
        assert values["doubled"] == 42

        second = httpx.post(url, json={"n": 1}, timeout=PROGRESS_S)
        assert second.status_code == 429

        cdp.call("Debugger.resume")
        invoker.join(PROGRESS_S)
        assert not invoker.is_alive()
        first = answers["first"]
        assert first.status_code == 200, first.text
        body: dict[str, Any] = first.json()
        assert body["doubled"] == 42 and body["remaining_ms"] > 5_000
        serve.wait_for(rf"REPORT RequestId: {first.headers['x-amzn-RequestId']}\t")
    finally:
        if cdp is not None:
            cdp.close()
        serve.stop()
    assert not Path(f"/proc/{body['pid']}").exists()


def test_invoke_debug_waits_for_the_debugger_then_answers(tmp_path: Path) -> None:
    """`lambda-emu invoke --debug`: the one invocation waits for an attach, then runs."""
    port = free_port()
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "lambda-emu"),
            "invoke",
            "debuggee",
            "-m",
            str(MANIFEST),
            "--payload",
            '{"n": 4}',
            "--debug",
            "--debug-port",
            str(port),
        ],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    client: DapClient | None = None
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()
        assert f"'debuggee' is in debug mode: attach to 127.0.0.1:{port}" in first
        deadline = time.monotonic() + PROGRESS_S
        while client is None:
            try:
                client = DapClient.connect(port)
            except ConnectionRefusedError:
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.05)
        client.request("initialize", adapterID="python", pathFormat="path")
        attach = client.send("attach", justMyCode=True)
        client.event("initialized")
        client.request("configurationDone")
        client.response(attach)
        out, err = proc.communicate(timeout=PROGRESS_S)
    finally:
        if client is not None:
            client.close()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert json.loads(out)["doubled"] == 8
    assert "REPORT RequestId:" in err and "Init Duration" in err


def _attach_and_go(port: int, serve: Serve) -> DapClient:
    """Attach with no breakpoints: the runtime goes on at once."""
    client = _attach(port, serve)
    client.request("initialize", adapterID="python", pathFormat="path")
    attach = client.send("attach", justMyCode=True)
    client.event("initialized")
    client.request("configurationDone")
    client.response(attach)
    return client


def test_a_hot_reload_restarts_the_debugged_environment(tmp_path: Path) -> None:
    """Edited code: the debugged environment goes, the next invocation's waits for the
    debugger again on the same port, and runs the new code."""
    code = tmp_path / "fn"
    shutil.copytree(FUNCTIONS / "debuggee", code)
    manifest = tmp_path / "lambda-emu.toml"
    manifest.write_text(
        '[functions.dbg]\nruntime = "python3.11"\nhandler = "app.handler"\ncode = "fn"\n'
    )
    port = free_port()
    serve = Serve(manifest, tmp_path / "state", "--debug", f"dbg:{port}", "--reload")
    url = f"{serve.url}/2015-03-31/functions/dbg/invocations"
    clients: list[DapClient] = []
    try:
        for n, edit in ((1, True), (2, False)):
            answers: dict[str, httpx.Response] = {}
            invoker = threading.Thread(target=_invoke, args=(url, {"n": n}, answers), daemon=True)
            invoker.start()
            clients.append(_attach_and_go(port, serve))
            invoker.join(PROGRESS_S)
            body = answers["first"].json()
            if edit:
                assert body["doubled"] == 2
                mark = len(serve.lines)
                handler = code / "app.py"
                text = handler.read_text().replace('"doubled": doubled', '"doubled": -doubled')
                handler.write_text(text)
                serve.wait_for(r"function 'dbg' reloaded", start=mark)
                first_pid = body["pid"]
            else:
                assert body["doubled"] == -4  # the new code, in a new environment
                assert body["pid"] != first_pid
    finally:
        for client in clients:
            client.close()
        serve.stop()
