"""The Runtime API state machine, driven by a test acting as the runtime over real sockets."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from emulator.api.runtime import FunctionResponse, InitFailed, RuntimeApi, normalise_error_type
from emulator.engine.invocation import Invocation

BASE = "/2018-06-01/runtime"


def run(body: Callable[[RuntimeApi, httpx.AsyncClient, dict[str, Any]], Awaitable[None]]) -> None:
    async def main() -> None:
        seen: dict[str, Any] = {"ready": 0}
        api = RuntimeApi(
            on_init_done=lambda at: seen.__setitem__("init_done", at),
            on_init_error=lambda failed: seen.__setitem__("init_error", failed),
            on_ready=lambda: seen.__setitem__("ready", seen["ready"] + 1),
        )
        await api.start()
        try:
            async with httpx.AsyncClient(base_url=f"http://{api.address}") as client:
                await body(api, client, seen)
        finally:
            await api.close()

    asyncio.run(main())


def _dispatch(api: RuntimeApi, inv: Invocation) -> asyncio.Future[Any]:
    fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    api.dispatch(inv, fut.set_result)
    return fut


def _invocation() -> Invocation:
    inv = Invocation(
        function_name="f", payload=b'{"k": 1}', invoked_arn="arn:aws:lambda:us-east-1:1:function:f"
    )
    inv.deadline_ms = int(time.time() * 1000) + 3000
    return inv


def test_next_delivers_the_invocation_with_every_header() -> None:
    async def body(api: RuntimeApi, client: httpx.AsyncClient, seen: dict[str, Any]) -> None:
        poll = asyncio.create_task(client.get(f"{BASE}/invocation/next"))
        while "init_done" not in seen:
            await asyncio.sleep(0.005)
        inv = _invocation()
        inv.client_context = '{"custom": {}}'
        outcome = _dispatch(api, inv)
        resp = await poll
        assert resp.status_code == 200
        assert resp.content == b'{"k": 1}'
        assert resp.headers["content-type"] == "application/json"
        assert resp.headers["lambda-runtime-aws-request-id"] == inv.request_id
        assert resp.headers["lambda-runtime-deadline-ms"] == str(inv.deadline_ms)
        assert resp.headers["lambda-runtime-invoked-function-arn"] == inv.invoked_arn
        assert resp.headers["lambda-runtime-trace-id"].startswith("Root=1-")
        assert resp.headers["lambda-runtime-client-context"] == '{"custom": {}}'
        assert "lambda-runtime-cognito-identity" not in resp.headers
        # a repeated /next while Running returns the same invocation (RIE)
        again = await client.get(f"{BASE}/invocation/next")
        assert again.headers["lambda-runtime-aws-request-id"] == inv.request_id
        posted = await client.post(f"{BASE}/invocation/{inv.request_id}/response", content=b'"ok"')
        assert posted.status_code == 202 and posted.json() == {"status": "OK"}
        result = await outcome
        assert isinstance(result, FunctionResponse) and result.body == b'"ok"'

    run(body)


def test_response_before_next_is_an_invalid_state_transition() -> None:
    async def body(api: RuntimeApi, client: httpx.AsyncClient, seen: dict[str, Any]) -> None:
        resp = await client.post(f"{BASE}/invocation/abc/response", content=b"{}")
        assert resp.status_code == 403
        assert resp.json() == {
            "errorMessage": "State transition from Started to InvocationResponse failed for "
            "runtime. Error: State transition is not allowed",
            "errorType": "InvalidStateTransition",
        }

    run(body)


def test_init_error_only_before_the_first_next() -> None:
    async def body(api: RuntimeApi, client: httpx.AsyncClient, seen: dict[str, Any]) -> None:
        poll = asyncio.create_task(client.get(f"{BASE}/invocation/next"))
        while "init_done" not in seen:
            await asyncio.sleep(0.005)
        resp = await client.post(f"{BASE}/init/error", content=b"{}")
        assert resp.status_code == 403
        assert resp.json()["errorType"] == "InvalidStateTransition"
        assert "from Ready to InitError" in resp.json()["errorMessage"]
        poll.cancel()

    run(body)


def test_init_error_is_reported() -> None:
    async def body(api: RuntimeApi, client: httpx.AsyncClient, seen: dict[str, Any]) -> None:
        resp = await client.post(
            f"{BASE}/init/error",
            content=b'{"errorMessage":"x","errorType":"Runtime.ImportModuleError"}',
            headers={"Lambda-Runtime-Function-Error-Type": "Runtime.ImportModuleError"},
        )
        assert resp.status_code == 202
        failed = seen["init_error"]
        assert isinstance(failed, InitFailed)
        assert failed.error_type == "Runtime.ImportModuleError"
        nxt = await client.get(f"{BASE}/invocation/next")
        assert nxt.status_code == 403

    run(body)


def test_wrong_and_repeated_request_ids_are_400() -> None:
    async def body(api: RuntimeApi, client: httpx.AsyncClient, seen: dict[str, Any]) -> None:
        poll = asyncio.create_task(client.get(f"{BASE}/invocation/next"))
        while "init_done" not in seen:
            await asyncio.sleep(0.005)
        inv = _invocation()
        _dispatch(api, inv)
        await poll
        wrong = await client.post(f"{BASE}/invocation/other/response", content=b"{}")
        assert wrong.status_code == 400
        assert wrong.json() == {
            "errorMessage": "Invalid request ID",
            "errorType": "InvalidRequestID",
        }
        ok = await client.post(f"{BASE}/invocation/{inv.request_id}/response", content=b"{}")
        assert ok.status_code == 202
        twice = await client.post(f"{BASE}/invocation/{inv.request_id}/response", content=b"{}")
        assert twice.status_code == 400 and twice.json()["errorType"] == "InvalidRequestID"
        err = await client.post(f"{BASE}/invocation/{inv.request_id}/error", content=b"{}")
        assert err.status_code == 400

    run(body)


def test_oversized_response_is_413() -> None:
    async def body(api: RuntimeApi, client: httpx.AsyncClient, seen: dict[str, Any]) -> None:
        poll = asyncio.create_task(client.get(f"{BASE}/invocation/next"))
        while "init_done" not in seen:
            await asyncio.sleep(0.005)
        inv = _invocation()
        outcome = _dispatch(api, inv)
        await poll
        resp = await client.post(
            f"{BASE}/invocation/{inv.request_id}/response", content=b"x" * 6_291_557
        )
        assert resp.status_code == 413
        assert resp.json() == {
            "errorMessage": "Exceeded maximum allowed payload size (6291556 bytes).",
            "errorType": "RequestEntityTooLarge",
        }
        result = await outcome
        assert getattr(result, "size", None) == 6_291_557

    run(body)


def test_next_after_response_makes_the_environment_ready() -> None:
    async def body(api: RuntimeApi, client: httpx.AsyncClient, seen: dict[str, Any]) -> None:
        poll = asyncio.create_task(client.get(f"{BASE}/invocation/next"))
        while "init_done" not in seen:
            await asyncio.sleep(0.005)
        inv = _invocation()
        _dispatch(api, inv)
        await poll
        await client.post(f"{BASE}/invocation/{inv.request_id}/error", content=b"{}")
        poll2 = asyncio.create_task(client.get(f"{BASE}/invocation/next"))
        while seen["ready"] == 0:
            await asyncio.sleep(0.005)
        assert api.state == "Ready"
        poll2.cancel()

    run(body)


def test_unknown_path_is_404() -> None:
    async def body(api: RuntimeApi, client: httpx.AsyncClient, seen: dict[str, Any]) -> None:
        resp = await client.get("/2018-06-01/nothing")
        assert resp.status_code == 404

    run(body)


def test_error_type_normalisation() -> None:
    assert normalise_error_type("Runtime.ImportModuleError") == "Runtime.ImportModuleError"
    assert normalise_error_type("Function.CustomError") == "Function.CustomError"
    assert normalise_error_type("Function.bad") == "Function.Unknown"
    assert normalise_error_type("unhandled") == "Runtime.Unknown"
    assert normalise_error_type(None) == "Runtime.Unknown"
