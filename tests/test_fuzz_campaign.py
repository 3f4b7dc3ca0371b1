"""The in-process fuzzing campaign (tests/fuzzing.py) on every HTTP surface: the Invoke API,
InvokeWithResponseStream, the control API, function URLs, the api port's routes and a Runtime
API listener. The suite runs a sample (LAMBDA_EMU_FUZZ_CASES per surface, 1,000 by default);
`scripts/fuzz` runs the full campaign (10^5 per surface) and prints the figures that
docs/security.md records.
"""

from __future__ import annotations

import base64
import json
import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from fuzzing import Figures, campaign, echoed, request

from emulator.api.runtime import RuntimeApi
from emulator.config import EmulatorConfig, FunctionConfig
from emulator.embedded import EmbeddedEmulator
from emulator.frontdoor.model import FunctionUrl, HttpApi, HttpConfig, HttpRoute
from emulator.server import Emulator

CASES = int(os.environ.get("LAMBDA_EMU_FUZZ_CASES", "1000"))
SEED = int(os.environ.get("LAMBDA_EMU_FUZZ_SEED", "19"))
FUNCTIONS = Path(__file__).parent / "functions"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedEmulator]:
    echo = FunctionConfig(
        name="echo",
        runtime="python3.11",
        handler="app.handler",
        code_dir=FUNCTIONS / "echo",
        timeout_s=30,
    )
    http = HttpConfig(
        apis=(HttpApi("Api", "http"),),
        routes=(HttpRoute("Api", "ANY", "/items/{proxy+}", "echo"),),
        urls=(FunctionUrl("echo"),),
    )
    cfg = EmulatorConfig(
        functions=(echo,),
        port=0,
        api_port=0,
        state_dir=tmp_path_factory.mktemp("fuzz"),
        log_to_terminal=False,
        http=http,
        freeze=False,  # cases follow each other closely: no freeze and thaw between them
    )
    with EmbeddedEmulator(cfg) as emu:
        yield emu


def _body(nonce: bytes) -> bytes:
    return json.dumps({"nonce": nonce.decode()}).encode()


def _post(path: str) -> object:
    def valid(rng: random.Random, nonce: bytes) -> bytes:
        headers = [("Content-Type", "application/json")] if rng.random() < 0.5 else []
        return request("POST", path, headers, _body(nonce))

    return valid


def _contains(nonce: bytes, answer: tuple[int, bytes]) -> str | None:
    status, body = answer
    if status != 200 or nonce not in body:
        return f"status {status}: {body[:200]!r}"
    return None


def _http_echo(nonce: bytes, answer: tuple[int, bytes]) -> str | None:
    """The echo function behind a function URL or a route returns the event it was given."""
    status, body = answer
    try:
        event = json.loads(body)
        sent = event["body"].encode()
        if event.get("isBase64Encoded"):
            sent = base64.b64decode(sent)
    except (ValueError, KeyError, TypeError):
        return f"status {status}: {body[:200]!r}"
    if status != 200 or sent != _body(nonce):
        return f"status {status}: {body[:200]!r}"
    return None


def _healthy(_nonce: bytes, answer: tuple[int, bytes]) -> str | None:
    status, body = answer
    if status != 200 or json.loads(body).get("status") != "ok":
        return f"status {status}: {body[:200]!r}"
    return None


def _refused(_nonce: bytes, answer: tuple[int, bytes]) -> str | None:
    status, body = answer
    if not 400 <= status < 500 or b"errorType" not in body:
        return f"status {status}: {body[:200]!r}"
    return None


INVOKE = "/2015-03-31/functions/echo/invocations"
STREAM = "/2021-11-15/functions/echo/response-streaming-invocations"
SURFACES = {
    "invoke": (
        "server",
        _post(INVOKE),
        [INVOKE, "/2015-03-31/functions/nope/invocations", f"{INVOKE}?Qualifier=$LATEST",
         f"{INVOKE}?Qualifier=9", "/2015-03-31/functions/echo:live/invocations",
         "/2014-11-13/functions/echo/invoke-async", "/2015-03-31/functions/a%2Fb/invocations",
         "/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:echo/invocations"],
        echoed,
    ),
    "streaming invoke": ("server", _post(STREAM), [STREAM, STREAM.replace("echo", "nope")],
                         _contains),
    "control": (
        "server",
        lambda _rng, _nonce: request("GET", "/_emu/health", [], b""),
        ["/_emu/health", "/_emu/functions", "/_emu/environments", "/metrics", "/_emu/x"],
        _healthy,
    ),
    "function urls": ("server", _post("/lambda-url/echo/a/b?x=1"),
                      ["/lambda-url/echo", "/lambda-url/echo/", "/lambda-url/nope/x",
                       "/lambda-url/echo/%2e%2e/x?y=%ff"], _http_echo),
    "api routes": ("api", _post("/items/x?y=1"),
                   ["/items/x", "/items/", "/other", "/items/a/b/c?q=%00"], _http_echo),
}  # fmt: skip


def _report(surface: str, figures: Figures) -> None:
    print(
        f"\nfuzz {surface}: {figures.cases} cases ({figures.well_formed} well-formed requests, "
        f"{figures.answers} answers) in {figures.seconds:.1f} s, "
        f"{len(figures.findings)} findings"
    )
    assert figures.findings == [], "\n".join(figures.findings[:10])
    assert figures.cases == CASES


@pytest.mark.parametrize("surface", list(SURFACES))
def test_fuzz_surface(served: EmbeddedEmulator, surface: str) -> None:
    listener, valid, paths, check = SURFACES[surface]

    async def run(emulator: Emulator) -> Figures:
        server = emulator.api_server if listener == "api" else emulator.server
        return await campaign(
            server, valid, paths, check, CASES, SEED, lambda: emulator.internal_errors
        )

    _report(surface, served.call(run, timeout=24 * 3600))


def test_fuzz_runtime_api(served: EmbeddedEmulator) -> None:
    """A Runtime API listener with no invocation in flight (its owner check is tested over
    sockets in tests/faults/): every answer is a 4xx of the API's own, /next long-polls."""
    errors: list[Exception] = []
    prefix = "/2018-06-01/runtime"

    def valid(rng: random.Random, nonce: bytes) -> bytes:
        kind = rng.choice(["response", "error"])
        return request("POST", f"{prefix}/invocation/{nonce.decode()}/{kind}", [], b"{}")

    paths = [f"{prefix}/invocation/next", f"{prefix}/invocation/x/response",
             f"{prefix}/invocation/x/error", f"{prefix}/init/error",
             "/2020-01-01/extension/register", "/2020-01-01/extension/event/next",
             "/2022-07-01/telemetry", "/2020-08-15/logs", "/2018-06-01/x"]  # fmt: skip

    async def run(_emulator: Emulator) -> Figures:
        api = RuntimeApi(
            on_init_done=lambda _e: None,
            on_init_error=lambda _e: None,
            on_ready=lambda: None,
            on_server_error=errors.append,
        )
        await api.start()
        try:
            return await campaign(api.server, valid, paths, _refused, CASES, SEED, lambda: errors)
        finally:
            await api.close()

    _report("runtime api", served.call(run, timeout=24 * 3600))


@pytest.mark.parametrize("path", [INVOKE, STREAM, "/_emu/reset"])
def test_a_body_nested_deeper_than_the_parser_goes_is_refused_not_a_500(
    served: EmbeddedEmulator, path: str
) -> None:
    """Found by the campaign: a valid JSON body nested ~2,000 deep raised RecursionError,
    answered 500 as the emulator's own error. Refused with 400 as Jackson refuses past 1,000 ⚠."""
    import httpx

    deep = b"[" * 5000 + b"]" * 5000
    answer = httpx.post(f"{served.url}{path}", content=deep, timeout=60)
    assert answer.status_code == 400, answer.text
    assert "nesting depth" in answer.text or path == "/_emu/reset"
    assert served.internal_errors == []
