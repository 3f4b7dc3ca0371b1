"""Typed configuration, parsed once at the edge.

`FunctionConfig` describes one Lambda function as a manifest declares it; `EmulatorConfig`
holds everything `serve` needs. Both are frozen: every other module receives them explicitly
and never reads environment variables or files on its own.

The manifest loaders (`lambda-emu.toml`, SAM `template.yaml`) live in `emulator.manifests`,
which builds these dataclasses; nothing here imports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

from emulator.frontdoor.model import DEFAULT_API_PORT, HttpConfig

if TYPE_CHECKING:
    from emulator.overrides import FunctionOverrides

Architecture = Literal["x86_64", "arm64"]
PackageType = Literal["Zip", "Image"]
# fake: the engine's own tests; portable: no Linux interfaces, no limits (as on a Mac)
SandboxKind = Literal["auto", "process", "docker", "portable", "fake"]
LogFormat = Literal["Text", "JSON"]  # LoggingConfig.LogFormat

# Lambda's documented ranges (LAMBDA_SPEC §5, §7).
MEMORY_MIN_MB = 128
MEMORY_MAX_MB = 10240
TIMEOUT_MIN_S = 1
TIMEOUT_MAX_S = 900
EPHEMERAL_MIN_MB = 512
EPHEMERAL_MAX_MB = 10240
DEFAULT_MEMORY_MB = 128
DEFAULT_TIMEOUT_S = 3
DEFAULT_EPHEMERAL_MB = 512
DEFAULT_ACCOUNT_CONCURRENCY = 1000
DEFAULT_REGION = "us-east-1"
DEFAULT_FREEZE_AFTER_S = 0.01
DEFAULT_ACCOUNT_ID = "123456789012"


def _frozen_env() -> Mapping[str, str]:
    return MappingProxyType({})


def _frozen_weights() -> Mapping[str, float]:
    return MappingProxyType({})


LATEST_VERSION = "$LATEST"


@dataclass(frozen=True)
class VersionConfig:
    """A published version (PublishVersion): a snapshot of the function's code and
    configuration, numbered from 1. ⚠ Locally the snapshot is of the configuration only: a
    version runs the function's code directory as it is now (see docs/configuration.md)."""

    version: str  # "1", "2", ...
    provisioned_concurrency: int = 0  # PutProvisionedConcurrencyConfig on this version


@dataclass(frozen=True)
class AliasConfig:
    """An alias (CreateAlias): a name for a version, optionally with weighted routing
    (RoutingConfig.AdditionalVersionWeights: version -> share of traffic, 0.0 to 1.0)."""

    name: str
    version: str  # FunctionVersion: a published version or "$LATEST"
    routing: Mapping[str, float] = field(default_factory=_frozen_weights)
    # PutProvisionedConcurrencyConfig on this alias: allocated to the version it points to
    provisioned_concurrency: int = 0


@dataclass(frozen=True)
class FunctionConfig:
    """One function, as declared by a manifest (names follow Lambda's CreateFunction)."""

    name: str
    runtime: str  # "python3.12", "provided.al2023", ...; "" for PackageType Image
    handler: str  # "app.handler"; for custom runtimes whatever `_HANDLER` should carry
    code_dir: Path  # absolute; LAMBDA_TASK_ROOT
    memory_mb: int = DEFAULT_MEMORY_MB
    timeout_s: int = DEFAULT_TIMEOUT_S
    environment: Mapping[str, str] = field(default_factory=_frozen_env)
    architecture: Architecture = "x86_64"
    ephemeral_storage_mb: int = DEFAULT_EPHEMERAL_MB
    reserved_concurrency: int | None = None
    provisioned_concurrency: int = 0
    package_type: PackageType = "Zip"
    image_uri: str | None = None
    # the image a Zip function runs on in the docker sandbox, instead of AWS's base image of
    # its runtime (or the local one); its code is still copied into /var/task
    image: str | None = None
    sandbox: SandboxKind | None = None  # per-function override of EmulatorConfig.sandbox
    # Local layer directories, Lambda's /opt (native manifests only): `<layer>/extensions/*`
    # are external extensions, `<layer>/python` joins a Python runtime's path.
    layers: tuple[Path, ...] = ()
    # EventInvokeConfig (LAMBDA_SPEC §7): retries of failed Event invocations, their maximum
    # age, and where an event that fails for good goes: "function:NAME" (an Event invocation
    # of that function) or a JSONL file (Lambda's invocation record per line).
    maximum_retry_attempts: int = 2
    maximum_event_age_s: int = 21_600
    on_failure: str | None = None
    # LoggingConfig (Lambda's advanced logging controls): with JSON, the runtime's own client
    # writes each log line as a JSON record, filtered at ApplicationLogLevel.
    log_format: LogFormat = "Text"
    application_log_level: str | None = None  # TRACE, DEBUG, INFO, WARN, ERROR, FATAL
    source: Path | None = None  # the manifest this came from, for error messages
    # Versions and aliases (LAMBDA_SPEC §2 qualifiers). `version` is the version this
    # configuration runs as: "$LATEST" for the function as declared, "N" for a published
    # version's pool (AWS_LAMBDA_FUNCTION_VERSION, X-Amz-Executed-Version).
    version: str = LATEST_VERSION
    versions: tuple[VersionConfig, ...] = ()
    aliases: tuple[AliasConfig, ...] = ()

    def published(self, version: VersionConfig) -> FunctionConfig:
        """The configuration a published version runs with: this one, numbered, with the
        provisioned concurrency of the version and of the unweighted aliases that point to
        it (Lambda allocates an alias's to its version)."""
        from dataclasses import replace

        provisioned = version.provisioned_concurrency + sum(
            alias.provisioned_concurrency
            for alias in self.aliases
            if alias.version == version.version
        )
        return replace(
            self,
            version=version.version,
            provisioned_concurrency=provisioned,
            versions=(),
            aliases=(),
        )

    # Variables the manifest declares with a value it cannot resolve here (an intrinsic): left
    # unset, but declared, so `--env-vars` may set them, as SAM CLI lets it (overrides.py).
    unresolved_env: tuple[str, ...] = ()
    # `--debug`: the runtime waits for a debugger on 127.0.0.1 at this port (overrides.py)
    debug_port: int | None = None

    def with_overrides(
        self, *, memory_mb: int | None = None, timeout_s: int | None = None
    ) -> FunctionConfig:
        from dataclasses import replace

        return replace(
            self,
            memory_mb=self.memory_mb if memory_mb is None else memory_mb,
            timeout_s=self.timeout_s if timeout_s is None else timeout_s,
        )


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything `lambda-emu serve` needs, built from CLI flags and the manifest."""

    functions: tuple[FunctionConfig, ...]
    host: str = "127.0.0.1"
    port: int = 9000  # the port RIE and cargo-lambda users already type; 0 = any free port
    sandbox: SandboxKind = "auto"
    region: str = DEFAULT_REGION
    account_id: str = DEFAULT_ACCOUNT_ID
    account_concurrency: int = DEFAULT_ACCOUNT_CONCURRENCY
    # Lambda does not document how long an idle environment lives (LAMBDA_SPEC §5 ⚠);
    # observed lifetimes are 5–15 minutes, so 10 minutes is the default.
    keep_alive_s: float = 600.0
    # Lambda's init phase limit for on-demand functions (LAMBDA_SPEC §5).
    init_timeout_s: float = 10.0
    # Event invocations are retried after 60 s and 120 s on Lambda; tests scale that down.
    event_retry_delay_scale: float = 1.0
    state_dir: Path = Path(".lambda-emu")  # logs, traces, caches of this run
    cache_dir: Path = Path.home() / ".cache" / "lambda-emu"  # runtime environments, deps
    log_to_terminal: bool = True
    trace_path: Path | None = None  # default: state_dir / "traces" / "invocations.jsonl"
    # Resource model (LAMBDA_SPEC §5–§6)
    cgroups: Literal["auto", "v2", "v1", "off"] = "auto"
    freeze: bool = True  # freeze environments between invocations, as Lambda does
    # ⚠ how long an idle environment runs before it is frozen: Lambda does not say how soon it
    # freezes one; a request within this window finds it running (no signals on a busy path)
    freeze_after_s: float = DEFAULT_FREEZE_AFTER_S
    private_tmp: bool = True  # a private /tmp per environment where the emulator may mount
    cpu_period_us: int = 20_000  # CFS period of the CPU quota (see docs/fidelity.md)
    # Lambda's /var/task and /var/runtime (cwd /var/task) in each environment's mount
    # namespace, where the emulator may mount (emulator/sandbox/process/lambda_paths.py); off:
    # the code and the runtime keep their local paths
    lambda_paths: bool = False
    # Whom functions run as when the emulator is root: auto = nobody (emulator/sandbox/users.py)
    function_user: str = "auto"
    # The docker sandbox as a compose emulator (or Docker Desktop) must run it: every change to
    # a container (CPU quota, pause/unpause, signals) through the engine's API, even where the
    # engine's pids and cgroups are visible; its counters from `docker_cgroups`, the engine
    # host's cgroup tree mounted here read-only, else from the stats API.
    docker_api_only: bool = False
    docker_cgroups: Path | None = None
    # Which images zip functions run on in the docker sandbox: auto = AWS's base images where
    # they are here or can be pulled, else the local ones (said once); aws = AWS's or fail;
    # local = `lambda-emu images build`'s. `runtime_images` names another image per runtime.
    base_images: Literal["auto", "aws", "local"] = "auto"
    runtime_images: Mapping[str, str] = field(default_factory=_frozen_env)
    # Only an environment's own processes may use its Runtime API (emulator/sandbox/peers.py)
    runtime_api_owner_check: bool = True
    sample_interval_s: float = 0.5  # RSS/CPU samples of every environment; 0 = off
    # Hot reload (emulator/reload.py): watch the manifest and the code directories.
    manifest_path: Path | None = None
    hot_reload: bool = False
    # A SAM template's `--parameter-overrides` (applied again on every hot reload)
    parameter_overrides: Mapping[str, str] = field(default_factory=_frozen_env)
    # The HTTP front door (emulator/frontdoor/): API Gateway routes on `api_port`, function
    # URLs on `port` under /lambda-url/<FunctionName>/.
    http: HttpConfig = field(default_factory=HttpConfig)
    api_port: int = DEFAULT_API_PORT  # 0 = any free port
    # SigV4 credentials that AWS_IAM function URLs accept: access key id → secret access key
    credentials: Mapping[str, str] = field(default_factory=_frozen_env)
    # --env-file, --env-vars and --debug (emulator/overrides.py): applied to the manifest's
    # functions at start and again by hot reload
    overrides: FunctionOverrides | None = None
    # A streamed response's bandwidth after its first 6 MB (docs configuration-response-
    # streaming: "up to 2 MBps"); 0 = no limit (benchmarks of the emulator's own throughput)
    stream_rate_bps: float = 2 * 1024 * 1024
    # How long every listener (Invoke API, api port, each Runtime API) waits on a client while
    # none of its requests is in progress: idle keep-alive, a request head from its first
    # byte, a buffered body after its head; None = no limit (emulator/httpserver.py,
    # ConnectionTimeouts; docs/security.md). ⚠ AWS documents none of these for its front ends
    # but ALB's 60 s idle timeout.
    idle_timeout_s: float | None = 60.0
    header_timeout_s: float | None = 10.0
    body_timeout_s: float | None = 60.0
    # The Lambda control plane (emulator/controlplane/): functions created through the API
    # live in state_dir/functions; `fresh` starts without them. CreateFunction's
    # S3Bucket/S3Key read <s3_dir>/<bucket>/<key> (default: state_dir/s3) ⚠ no S3 here.
    fresh: bool = False
    s3_dir: Path | None = None

    def __post_init__(self) -> None:
        # Runtimes run with their code directory as cwd, so every path they are given
        # (the private /tmp's source among them) must be absolute.
        object.__setattr__(self, "state_dir", self.state_dir.resolve())
        if self.trace_path is not None:
            object.__setattr__(self, "trace_path", self.trace_path.resolve())

    def function(self, name: str) -> FunctionConfig | None:
        for fn in self.functions:
            if fn.name == name:
                return fn
        return None
