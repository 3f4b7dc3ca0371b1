"""The control plane's state: every function's record, and the one way changes reach the
function registry.

Functions created through the API go through the same `FunctionRegistry` as a manifest's
(same sandboxes, limits, scaling, REPORT lines and traces). A change is answered at once with
the lifecycle AWS shows (`State: Pending`, `LastUpdateStatus: InProgress`) and applied by a
task; when the registry has the new pool the record turns `Active` / `Successful` with a new
`RevisionId` (LocalStack's AWS-recorded TestLambdaFunction::test_function_lifecycle: the
RevisionId of the create response, of the first GetFunction and of each update differ).

Manifest functions have no record until the API changes one: they are described from their
`FunctionConfig`. When the manifest reloads (hot reload, or the next `serve`), the manifest
wins: the API's changes to its functions are dropped, with a warning.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from emulator import errors
from emulator.arns import ArnScheme
from emulator.config import AliasConfig, FunctionConfig
from emulator.controlplane import validation
from emulator.controlplane.store import (
    FunctionRecord,
    FunctionStore,
    Snapshot,
    directory_digest,
    now_iso,
    revision,
)
from emulator.engine.functions import FunctionRegistry
from emulator.frontdoor.model import FunctionUrl, HttpConfig

LATEST = "$LATEST"
ROLE = "arn:aws:iam::{account}:role/lambda-emu"  # ⚠ a manifest function has no role


class ControlPlane:
    def __init__(
        self,
        functions: FunctionRegistry,
        arns: ArnScheme,
        state_dir: Path,
        *,
        s3_dir: Path,
        account_concurrency: int,
        http: Callable[[], HttpConfig],
        on_http: Callable[[HttpConfig], Awaitable[None]],
        warn: Callable[[str], None],
    ) -> None:
        self.registry = functions
        self.arns = arns
        self.store = FunctionStore(state_dir / "functions")
        self.s3_dir = s3_dir
        self.account_concurrency = account_concurrency
        self._http = http
        self._on_http = on_http
        self.warn = warn
        self.records: dict[str, FunctionRecord] = {}
        self._applied: dict[str, FunctionConfig] = {}  # what this plane last gave the registry
        self._tasks: set[asyncio.Task[None]] = set()
        self._owners: dict[asyncio.Task[None], str] = {}
        self.code_storage_limit = 80_530_636_800
        self._digests: dict[Path, tuple[str, int]] = {}

    # --- start and stop ----------------------------------------------------------------------
    async def restore(self, *, fresh: bool) -> None:
        """The API's functions of an earlier run (none with `fresh`). A manifest function of
        the same name wins."""
        if fresh:
            self.store.wipe()
            return
        for record in self.store.load():
            if record.name in self.registry:
                self.warn(
                    f"function {record.name}: the manifest declares it; its API-created "
                    f"version in {self.store.root} is not served"
                )
                continue
            self.records[record.name] = record
            self._start(record.name, self._restoring(record))

    async def _restoring(self, record: FunctionRecord) -> None:
        fn = self.function_config(record, LATEST)
        await self.registry.add(fn)
        self._applied[record.name] = fn
        for snap in record.versions:
            await self.registry.publish(record.name, self.function_config(record, snap.version))
        for name in record.aliases:
            self.registry.put_alias(record.name, self.alias_config(record, name))
        self.activate(record)
        for qualifier, config in record.urls.items():
            await self.serve_url(record.name, qualifier, config)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # --- lookups ---------------------------------------------------------------------------
    def names(self) -> list[str]:
        names = set(self.registry) | {n for n, r in self.records.items() if r.origin == "api"}
        return sorted(names)

    def record(self, name: str) -> FunctionRecord | None:
        """The record of `name`: an API function's, or a manifest function's (described from
        its configuration; the API's changes dropped once the manifest has reloaded it)."""
        record = self.records.get(name)
        pool = self.registry.get(name)
        if record is not None:
            applied = self._applied.get(name)
            if (
                record.origin == "api"
                or pool is None
                or applied is None
                or pool.fn is applied
                or self.in_progress(name)  # our own change is reaching the pool
            ):
                if record.origin == "manifest" and pool is None:
                    del self.records[name]
                    return None
                return record
            del self.records[name]  # the manifest reloaded this function: it wins
            self.warn(f"function {name}: the manifest's reload replaced the API's changes")
        if pool is None:
            return None
        return self._manifest_view(pool.fn)

    def unserved_state(self, name: str) -> str | None:
        """`Pending` for an API function being created (not served yet), else None."""
        record = self.records.get(name)
        if record is None or record.origin != "api" or name in self.registry:
            return None
        return record.state if record.state == "Pending" else None

    def require(self, name: str, qualifier: str | None = None) -> FunctionRecord:
        record = self.record(name)
        if record is None:
            raise errors.ResourceNotFound(
                f"Function not found: {self.arns.function_arn(name, qualifier)}"
            )
        return record

    def _manifest_view(self, fn: FunctionConfig) -> FunctionRecord:
        key = fn.code_dir
        if key not in self._digests:
            self._digests[key] = directory_digest(fn.code_dir)
        sha, size = self._digests[key]
        cfg: dict[str, Any] = {
            "Role": ROLE.format(account=self.arns.account_id),
            "Timeout": fn.timeout_s,
            "MemorySize": fn.memory_mb,
            "PackageType": fn.package_type,
            "Architectures": [fn.architecture],
            "EphemeralStorage": {"Size": fn.ephemeral_storage_mb},
            "LoggingConfig": {"LogFormat": fn.log_format},
        }
        if fn.package_type == "Zip":
            cfg["Runtime"], cfg["Handler"] = fn.runtime, fn.handler
        else:
            cfg["ImageUri"] = fn.image_uri
        if fn.environment:
            cfg["Environment"] = {"Variables": dict(fn.environment)}
        record = FunctionRecord(
            name=fn.name,
            latest=Snapshot(LATEST, cfg, sha, size, str(fn.code_dir), revision_id=_stable(fn)),
            origin="manifest",
            reserved=fn.reserved_concurrency,
            state="Active",
            state_reason=None,
            state_reason_code=None,
            last_update="Successful",
        )
        for number in self.registry.versions(fn.name):
            record.versions.append(replace(record.latest, version=number))
        for alias in self.registry.aliases(fn.name).values():
            record.aliases[alias.name] = {
                "FunctionVersion": alias.version,
                "Description": "",
                "RevisionId": _stable(alias),
                "AdditionalVersionWeights": dict(alias.routing),
            }
        return record

    def adopt(self, record: FunctionRecord) -> FunctionRecord:
        """A manifest function's record, kept from now on: the API is changing it."""
        if record.name not in self.records:
            self.warn(
                f"function {record.name}: changed through the Lambda API; the manifest wins "
                "when it reloads (hot reload or the next serve)"
            )
            self.records[record.name] = record
            pool = self.registry.get(record.name)
            if pool is not None:
                self._applied[record.name] = pool.fn
        return record

    def save(self, record: FunctionRecord) -> None:
        if record.origin == "api":
            self.store.save(record)

    # --- configuration → registry ------------------------------------------------------------
    def function_config(self, record: FunctionRecord, version: str) -> FunctionConfig:
        snap = record.snapshot(version)
        assert snap is not None
        base = None
        if record.origin == "manifest":
            applied = self._applied.get(record.name)
            pool = self.registry.pool_for(record.name, version) or self.registry.get(record.name)
            base = pool.fn if pool is not None else applied
        return validation.function_config(
            record.name,
            snap.config,
            snap.code_dir,
            version=version,
            reserved=record.reserved,
            provisioned=self.provisioned_for(record, version),
            event_invoke=record.event_invoke.get(version),
            base=base,
        )

    def provisioned_for(self, record: FunctionRecord, version: str) -> int:
        """A version's provisioned environments: its own and its aliases' (Lambda allocates
        an alias's to the version it points to)."""
        total = int(record.provisioned.get(version, {}).get("Requested", 0))
        for name, alias in record.aliases.items():
            if alias["FunctionVersion"] == version and not alias.get("AdditionalVersionWeights"):
                total += int(record.provisioned.get(name, {}).get("Requested", 0))
        return total

    def alias_config(self, record: FunctionRecord, name: str) -> AliasConfig:
        data = record.aliases[name]
        return AliasConfig(
            name=name,
            version=data["FunctionVersion"],
            routing=dict(data.get("AdditionalVersionWeights") or {}),
        )

    # --- the lifecycle --------------------------------------------------------------------------
    def _start(self, name: str, work: Awaitable[None]) -> None:
        async def run() -> None:
            try:
                await work
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the function goes Failed, as it would on AWS
                record = self.records.get(name)
                if record is not None:
                    self.fail(record, exc)

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        self._owners[task] = name
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._owners.pop(task, None)

    def in_progress(self, name: str) -> bool:
        return name in self._owners.values()

    def check_idle(self, record: FunctionRecord) -> None:
        """A change while the function is created or updated: AWS-recorded test_lambda_
        concurrent_code_updates / _config_updates (2025-11); the state's message as LocalStack
        words it (lambda_service.py) ⚠."""
        if record.state != "Active":
            raise errors.ResourceConflict(
                "The operation cannot be performed at this time. The function is currently in "
                f"the following state: {record.state}"
            )
        if record.last_update == "InProgress":
            raise errors.ResourceConflict(
                "The operation cannot be performed at this time. An update is in progress for "
                f"resource: {self.arns.function_arn(record.name)}"
            )

    def create(self, record: FunctionRecord) -> None:
        self.records[record.name] = record
        self.save(record)
        self._start(record.name, self._creating(record))

    async def _creating(self, record: FunctionRecord) -> None:
        fn = self.function_config(record, LATEST)
        await self.registry.add(fn)
        self._applied[record.name] = fn
        self.activate(record)

    def activate(self, record: FunctionRecord) -> None:
        record.state, record.state_reason, record.state_reason_code = "Active", None, None
        record.last_update = "Successful"
        record.last_update_reason = record.last_update_reason_code = None
        record.latest.revision_id = revision()
        self.save(record)

    def fail(self, record: FunctionRecord, exc: Exception) -> None:
        """⚠ AWS's reasons name the failing resource; ours say what the emulator could not do."""
        if record.state == "Pending":
            record.state, record.state_reason = "Failed", f"lambda-emu: {exc}"
            record.state_reason_code = "InternalError"
        record.last_update = "Failed"
        record.last_update_reason = f"lambda-emu: {exc}"
        record.last_update_reason_code = "InternalError"

    def update(self, record: FunctionRecord) -> None:
        """UpdateFunctionCode / UpdateFunctionConfiguration: InProgress until $LATEST's pool
        has the new configuration (its next invocation is a cold start)."""
        record.last_update = "InProgress"
        # the literal text of the AWS-recorded update responses, even for updates
        record.last_update_reason = "The function is being created."
        record.last_update_reason_code = "Creating"
        record.latest.last_modified = now_iso()
        record.latest.revision_id = revision()
        self.save(record)
        self._start(record.name, self._updating(record))

    async def _updating(self, record: FunctionRecord) -> None:
        fn = self.function_config(record, LATEST)
        if record.name in self.registry:
            await self.registry.update(fn)
        else:
            await self.registry.add(fn)
        self._applied[record.name] = fn
        self.activate(record)

    async def apply_versions(self, record: FunctionRecord, versions: list[str]) -> None:
        """New settings (reserved or provisioned concurrency) for these versions' pools."""
        for version in versions:
            fn = self.function_config(record, version)
            if self.registry.pool_for(record.name, version) is not None:
                await self.registry.update(fn)
            if version == LATEST:
                self._applied[record.name] = fn

    def configure(self, record: FunctionRecord, versions: list[str]) -> None:
        """Reserved concurrency and event invoke settings: the pools take them at once, their
        environments stay (as on Lambda)."""
        for version in versions:
            fn = self.function_config(record, version)
            self.registry.configure(
                record.name,
                (version,),
                reserved_concurrency=fn.reserved_concurrency,
                maximum_retry_attempts=fn.maximum_retry_attempts,
                maximum_event_age_s=fn.maximum_event_age_s,
                on_failure=fn.on_failure,
            )
        pool = self.registry.get(record.name)
        if pool is not None and record.name in self._applied:
            self._applied[record.name] = pool.fn
        self.save(record)

    def run(self, name: str, work: Awaitable[None]) -> None:
        """Apply a change in the background, as AWS does after answering."""
        self._start(name, work)

    async def delete(self, name: str) -> None:
        pending = [t for t, owner in self._owners.items() if owner == name]
        await asyncio.gather(*pending, return_exceptions=True)  # its changes land first
        record = self.records.pop(name, None)
        self._applied.pop(name, None)
        if record is None or record.origin == "api":
            self.store.delete(name)
        await self.registry.remove(name)
        http = self._http()
        if any(u.function == name for u in http.urls):
            await self._on_http(
                replace(http, urls=tuple(u for u in http.urls if u.function != name))
            )

    # --- function URLs (the front door serves them) ---------------------------------------------
    async def serve_url(self, name: str, qualifier: str, config: dict[str, Any] | None) -> None:
        """Serve (or, with None, stop serving) the URL of `name` ("" qualifier) or of its
        alias `qualifier`, at /lambda-url/<name>/ or /lambda-url/<name>:<alias>/."""
        http = self._http()
        alias = qualifier or None
        urls = tuple(u for u in http.urls if (u.function, u.qualifier) != (name, alias))
        if config is not None:
            urls += (_function_url(name, qualifier, config),)
        await self._on_http(replace(http, urls=urls))

    def merge_http(self, http: HttpConfig) -> HttpConfig:
        """A manifest's front-door configuration (hot reload) with the URLs of the functions
        created through the API kept."""
        ours = [
            _function_url(name, qualifier, config)
            for name, record in self.records.items()
            if record.origin == "api"
            for qualifier, config in record.urls.items()
        ]
        kept = tuple(u for u in http.urls if u.function not in {u.function for u in ours})
        return replace(http, urls=kept + tuple(ours))

    def url_of(self, name: str) -> str:
        return f"https://{FunctionUrl(name).url_id}.lambda-url.{self.arns.region}.on.aws/"

    def code_usage(self) -> int:
        return self.store.code_bytes()


def _function_url(name: str, qualifier: str, config: dict[str, Any]) -> FunctionUrl:
    """⚠ The configuration's Cors is stored, not applied."""
    return FunctionUrl(
        function=name,
        auth_type=config["AuthType"],
        invoke_mode=config.get("InvokeMode") or "BUFFERED",
        qualifier=qualifier or None,
    )


def _stable(thing: object) -> str:
    """A RevisionId for a manifest function: the same while its configuration is."""
    import hashlib
    import uuid

    return str(uuid.UUID(hashlib.md5(repr(thing).encode()).hexdigest()))
