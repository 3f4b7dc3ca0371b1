"""The engine's seams, each tested on its own: the route table, the environment's transition
table, the reply future, the function registry, the sandbox and runtime tables, and the pool's
scaling on the fake sandbox (no processes: these run in milliseconds)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import MappingProxyType

import pytest

from emulator import errors, wire
from emulator.api.routes import ROUTES, Router, compile_template
from emulator.client import InvokeClient, invoke_request
from emulator.config import EmulatorConfig, FunctionConfig
from emulator.embedded import EmbeddedEmulator
from emulator.engine.invocation import Invocation, InvocationResult
from emulator.engine.states import TRANSITIONS, EnvState, check_transition
from emulator.httpserver import Request, Response
from emulator.metrics.trace import TraceFormatError, read_records
from emulator.sandbox import registry
from emulator.sandbox.runtimes import RuntimeResolver, runtime_family
from emulator.sandbox.runtimes.python import layer_paths

FUNCTIONS = Path(__file__).parent / "functions"


def _request(method: str, path: str) -> Request:
    return Request(method, path, "", {}, b"", 0, False)


# --- the route table ---------------------------------------------------------------------------
class _Surface:
    def __getattr__(self, action: str) -> object:
        def handler(request: Request) -> Response:
            return Response(200, json.dumps([action, dict(request.params)]).encode())

        return handler


def _answer(router: Router, method: str, path: str) -> tuple[int, object]:
    response = router(_request(method, path))
    assert isinstance(response, Response)
    return response.status, json.loads(response.body) if response.body else None


def test_every_row_reaches_its_surface_and_action() -> None:
    routers = {
        listener: Router(listener, {row.surface: _Surface() for row in ROUTES})
        for listener in {row.listener for row in ROUTES}
    }
    for row in ROUTES:
        path = row.template.replace("{FunctionName}", "fn").replace("{RequestId}", "id-1")
        path = path.replace("{Rest+}", "a/b")
        method = "PATCH" if row.method == "*" else row.method
        status, body = _answer(routers[row.listener], method, path)
        assert status == 200 and isinstance(body, list) and body[0] == row.action, row


def test_path_parameters_and_greedy_ones() -> None:
    pattern = compile_template("/x/{A}/y/{B+}")
    assert pattern is not None
    match = pattern.fullmatch("/x/1/y/2/3")
    assert match is not None and match.groupdict() == {"A": "1", "B": "2/3"}
    assert pattern.fullmatch("/x/1/2/y/3") is None  # {A} is one segment
    assert compile_template("/static") is None


def test_each_listener_answers_unknown_paths_and_methods_its_own_way() -> None:
    invoke = Router("invoke", {"invoke": _Surface(), "control": _Surface()})
    status, body = _answer(invoke, "GET", "/2015-03-31/functions/fn/invocations")
    assert status == 404 and body == {
        "Type": "User",
        "message": ("Unknown operation /2015-03-31/functions/fn/invocations"),
    }  # Lambda's endpoint: no such operation for GET
    assert _answer(invoke, "GET", "/nowhere")[0] == 404
    assert _answer(invoke, "GET", "/_emu/health/")[0] == 200  # a trailing slash is the same path
    runtime = Router("runtime", {"runtime": _Surface(), "extensions": _Surface()})
    assert _answer(runtime, "POST", wire.RUNTIME_NEXT) == (
        405,
        {"errorMessage": "Method Not Allowed", "errorType": "MethodNotAllowed"},
    )
    assert _answer(runtime, "GET", "/2018-06-01/runtime/nowhere")[0] == 404
    # a known Extensions API path with another method falls to the version's catch-all (RIE)
    assert _answer(runtime, "GET", "/2020-01-01/extension/register")[1] == [
        "unknown",
        {"Rest": "extension/register"},
    ]


def test_the_router_renders_the_errors_handlers_raise() -> None:
    class Raising:
        def invoke(self, _request: Request) -> Response:
            raise errors.TooManyRequests(wire.REASON_RESERVED_CONCURRENCY)

        invoke_async = invoke

    response = Router("invoke", {"invoke": Raising()})(
        _request("POST", "/2015-03-31/functions/f/invocations")
    )
    assert isinstance(response, Response) and response.status == 429
    assert (wire.H_ERROR_TYPE, wire.TOO_MANY_REQUESTS) in response.headers


# --- the environment's transition table --------------------------------------------------------
def test_moves_not_in_the_table_raise() -> None:
    allowed = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
    for current in EnvState:
        for target in EnvState:
            if (current, target) in allowed:
                assert check_transition(current, target) is target
            else:
                with pytest.raises(errors.InvalidTransition):
                    check_transition(current, target)
    assert TRANSITIONS[EnvState.SHUTDOWN] == frozenset()  # nothing comes back from Shutdown


# --- the reply future --------------------------------------------------------------------------
def test_an_invocation_is_answered_once() -> None:
    async def main() -> None:
        inv = Invocation(function_name="f", payload=b"{}", invoked_arn="arn")
        assert inv.resolve(InvocationResult(b"1"))
        assert not inv.resolve(InvocationResult(b"2"))
        assert not inv.fail(errors.TooManyRequests(wire.REASON_SCALING_RATE))
        assert (await inv.reply).payload == b"1"
        retry = __import__("dataclasses").replace(inv, attempt=1)
        assert not retry.answered  # a copy (an Event retry) has a reply of its own

    asyncio.run(main())


# --- tables: sandboxes and runtimes ------------------------------------------------------------
def test_the_sandbox_table_routes_each_function_to_its_kind(tmp_path: Path) -> None:
    zip_fn = FunctionConfig("z", "python3.11", "app.handler", tmp_path)
    image = FunctionConfig("i", "", "", tmp_path, package_type="Image", image_uri="x:1")
    assert registry.choose(zip_fn, "auto") == "process"
    assert registry.choose(image, "auto") == "docker"
    assert registry.choose(FunctionConfig("f", "python3.11", "h", tmp_path, sandbox="fake"), "x")
    cfg = EmulatorConfig(functions=(), state_dir=tmp_path)
    routing = registry.RoutingSandboxFactory(
        registry.SandboxSettings(cfg, RuntimeResolver(tmp_path, print), print)
    )
    fake = FunctionConfig("f", "python3.11", "h", tmp_path, sandbox="fake")
    assert routing.prepare(fake).argv == ("fake-runtime", "h")
    assert routing.kind_of("f") == "fake" and routing.stages("f") is False
    with pytest.raises(errors.SandboxError, match="no sandbox named 'vm'"):
        registry.build("vm", routing.settings)


def test_the_runtime_table(tmp_path: Path) -> None:
    assert runtime_family("python3.12") == "python"
    assert runtime_family("provided.al2023") == "provided"
    assert runtime_family("nodejs20.x") == "nodejs"
    assert runtime_family("java21") is None
    fn = FunctionConfig("n", "java21", "example.Handler::handleRequest", tmp_path)
    with pytest.raises(errors.SandboxError, match=r"runtime java21 has no entry"):
        RuntimeResolver(tmp_path, print).prepare(fn)
    # Lambda's order for a layer: python/lib/pythonX.Y/site-packages, then python/
    layer = tmp_path / "layer"
    assert layer_paths((layer,), "3.12") == [
        str(layer / "python" / "lib" / "python3.12" / "site-packages"),
        str(layer / "python"),
    ]


# --- the client -------------------------------------------------------------------------------
def test_the_client_builds_what_boto3_sends() -> None:
    req = invoke_request("f:1", {"a": 1}, qualifier="live", client_context='{"c":1}')
    assert req.path == "/2015-03-31/functions/f:1/invocations?Qualifier=live"
    assert req.body == b'{"a": 1}'
    assert req.headers["X-Amz-Log-Type"] == "Tail"
    assert req.headers["X-Amz-Client-Context"] == "eyJjIjoxfQ=="
    assert invoke_request("f", raw=b"x", log_tail=False).headers.get("X-Amz-Log-Type") is None


# --- the one trace reader ---------------------------------------------------------------------
def test_the_trace_reader_skips_other_kinds_and_names_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text('{"request_id": "a"}\n\n{"kind": "http", "route": "GET /"}\n')
    assert [r["request_id"] for r in read_records(path)] == ["a"]
    path.write_text('{"request_id": "a"}\nnot json\n')
    with pytest.raises(TraceFormatError, match=r"t.jsonl:2: not a trace record"):
        list(read_records(path))


# --- the pool on the fake sandbox --------------------------------------------------------------
def _fake(name: str, tmp_path: Path, **kw: object) -> FunctionConfig:
    return FunctionConfig(name, "python3.11", "app.handler", tmp_path, sandbox="fake", **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def fake_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedEmulator]:
    code = tmp_path_factory.mktemp("code")
    functions = (
        _fake("echo", code),
        _fake("reserved", code, reserved_concurrency=2, timeout_s=5),
        _fake("provisioned", code, provisioned_concurrency=2),
        _fake("broken_init", code, environment=MappingProxyType({"FAKE_INIT_ERROR": "nope"})),
        _fake("slow_init", code, environment=MappingProxyType({"FAKE_INIT_SLEEP": "5"})),
    )
    cfg = EmulatorConfig(
        functions=functions,
        port=0,
        sandbox="fake",
        state_dir=tmp_path_factory.mktemp("state"),
        log_to_terminal=False,
        init_timeout_s=0.3,
    )
    with EmbeddedEmulator(cfg) as emu:
        yield emu


@pytest.fixture
def client(fake_emulator: EmbeddedEmulator) -> Iterator[InvokeClient]:
    with InvokeClient(fake_emulator.url) as c:
        c.reset(wait=True)
        yield c


def test_warm_reuse_takes_the_most_recently_used_environment(
    fake_emulator: EmbeddedEmulator, client: InvokeClient
) -> None:
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda _i: client.invoke("echo", {"sleep": 0.2}), range(3)))
    assert fake_emulator.emulator is not None
    pool_ = fake_emulator.emulator.functions["echo"]
    assert len(pool_.envs) == 3
    ids = {client.invoke("echo", {}).headers["x-amzn-requestid"] for _ in range(5)}
    assert len(ids) == 5
    assert pool_.counters.cold_starts == 3  # sequential calls after that are all warm


def test_reserved_concurrency_throttles_at_once(client: InvokeClient) -> None:
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _i: client.invoke("reserved", {"sleep": 0.5}), range(4)))
    assert sorted(r.status for r in results) == [200, 200, 429, 429]
    throttled = [r.json() for r in results if r.status == 429]
    assert all(t["Reason"] == wire.REASON_RESERVED_CONCURRENCY for t in throttled)


def test_provisioned_environments_are_initialised_ahead(client: InvokeClient) -> None:
    result = client.invoke("provisioned", {})
    assert result.report is not None and not result.report.cold


def test_a_failed_init_is_retried_in_the_invoke_phase_then_reported(client: InvokeClient) -> None:
    result = client.invoke("broken_init", {})
    assert result.function_error == "Unhandled"
    assert result.json() == {"errorType": "FakeInitError", "errorMessage": "nope"}
    # the type header is normalised as RIE does: not Runtime.X nor Function.X → Runtime.Unknown
    assert "Phase: invoke\tStatus: error\tError Type: Runtime.Unknown" in result.log
    assert result.report is not None and result.report.status == "error"


def test_an_init_over_its_limit_times_out(client: InvokeClient) -> None:
    result = client.invoke("slow_init", {})
    assert result.json()["errorType"] == "Sandbox.Timedout"


def test_an_unknown_function_and_a_reset_of_one(client: InvokeClient) -> None:
    result = client.invoke("nobody", {})
    assert result.status == 404 and result.headers["x-amzn-errortype"] == wire.RESOURCE_NOT_FOUND
    client.invoke("echo", {})
    client.reset("echo", wait=True)
    assert client.invoke("echo", {}).report.cold  # type: ignore[union-attr]
    import httpx

    with pytest.raises(httpx.HTTPStatusError):
        client.reset("nobody")


def test_the_registry_adds_reloads_and_removes(
    fake_emulator: EmbeddedEmulator, client: InvokeClient, tmp_path: Path
) -> None:
    from dataclasses import replace

    added = _fake("added", tmp_path)

    async def add(emu: object) -> None:
        await fake_emulator.emulator.functions.add(added)  # type: ignore[union-attr]

    fake_emulator.call(add)
    assert client.invoke("added", {"k": 1}).json() == {"echo": {"k": 1}}

    async def reload(emu: object) -> None:
        await fake_emulator.emulator.functions.reload(replace(added, memory_mb=512))  # type: ignore[union-attr]

    fake_emulator.call(reload)
    after = client.invoke("added", {})
    assert after.report is not None and after.report.cold and after.report.memory_mb == 512

    async def remove(emu: object) -> None:
        await fake_emulator.emulator.functions.remove("added")  # type: ignore[union-attr]

    fake_emulator.call(remove)
    assert client.invoke("added", {}).status == 404


# --- the freezer ---------------------------------------------------------------------------
def test_an_idle_environment_is_frozen_after_freeze_after_s_unless_used_first() -> None:
    from emulator.config import DEFAULT_FREEZE_AFTER_S
    from emulator.engine.freezer import IdleFreezer

    class Sandbox:
        def __init__(self) -> None:
            self.calls: list[str] = []

        def freeze(self) -> None:
            self.calls.append("freeze")

        def thaw(self) -> None:
            self.calls.append("thaw")

    async def main() -> None:
        loop = asyncio.get_running_loop()
        sandbox = Sandbox()
        freezer = IdleFreezer(
            loop, enabled=True, after_s=DEFAULT_FREEZE_AFTER_S, is_idle=lambda: True
        )
        freezer.sandbox = sandbox  # type: ignore[assignment]
        freezer.went_idle()
        assert freezer.pending and sandbox.calls == []
        freezer.thaw()  # used again within freeze_after_s: never stopped, nothing to thaw
        assert not freezer.pending and sandbox.calls == []
        freezer.went_idle()
        await asyncio.sleep(DEFAULT_FREEZE_AFTER_S * 3)
        assert sandbox.calls == ["freeze"] and not freezer.pending
        freezer.thaw()
        assert sandbox.calls == ["freeze", "thaw"]

    asyncio.run(main())
    assert DEFAULT_FREEZE_AFTER_S == 0.01  # what the start line and docs/fidelity.md say
