"""What the daily dev loop changes in a manifest's functions: environment files and the debugger.

    --env-file .env        every function            KEY=VALUE lines; adds or replaces
    --env-vars env.json    SAM CLI's format          replaces variables the manifest declares
    --debug FN[:PORT]      one function              waits for a debugger; one environment

The environment a function gets, lowest precedence first (docs/configuration.md):

    1. the manifest's `Environment` (SAM: Globals, then the function's)
    2. `--env-file`: every variable, for every function
    3. `--env-vars` `Parameters`: for every function, only variables the manifest declares
    4. `--env-vars` `<function>`: for that function, only variables the manifest declares

Steps 3 and 4 are SAM CLI's: "The environment variables file's values override the values
declared in the template; a variable that is not declared there is not added"
(samcli/local/lambdafn/env_vars.py `EnvironmentVariables.resolve` loops over the template's
variables only; aws/aws-sam-cli#1553, #6145), and a function's own object takes precedence
over `Parameters` (docs serverless-sam-cli-using-invoke.html, "Environment variable file").
Lambda's own variables stay above all of these: the files may not name a reserved one.

`--debug` makes the function's timeout and the init limit SAM CLI's debug timeout (10 hours:
`LocalLambdaRunner.MAX_DEBUG_TIMEOUT`, "When in debug mode, we set the timeout in the
container to a max 10 hours"), runs it in at most one environment (reserved concurrency 1:
a second concurrent request is throttled, 429, as Lambda throttles past a reservation) and
never provisions it. The runtime rows (emulator/sandbox/runtimes/) start it under the
debugger.

`FunctionOverrides.apply` is the one place this happens: the CLI's commands call it on the
manifest's functions, and hot reload calls it again on a re-read manifest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType

from emulator.config import FunctionConfig
from emulator.manifests.envfiles import environment_size, read_dotenv, read_env_vars
from emulator.manifests.validate import ENV_MAX_BYTES

# SAM CLI's LocalLambdaRunner.MAX_DEBUG_TIMEOUT (samcli/commands/local/lib/local_lambda.py).
DEBUG_TIMEOUT_S = 36_000
# Where each runtime's debugger listens unless told: debugpy's and Node's inspector's defaults.
DEBUG_PORTS = {"python": 5678, "nodejs": 9229}


def _empty() -> Mapping[str, str]:
    return MappingProxyType({})


def _empty_functions() -> Mapping[str, Mapping[str, str]]:
    return MappingProxyType({})


def debug_family(runtime: str) -> str | None:
    """The runtime family `--debug` can start under a debugger, or None."""
    if runtime.startswith("python3"):
        return "python"
    if runtime.startswith("nodejs"):
        return "nodejs"
    return None


@dataclass(frozen=True)
class DebugTarget:
    """`--debug FUNCTION[:PORT]`."""

    function: str
    port: int | None = None  # None: the runtime's default (DEBUG_PORTS)

    @classmethod
    def parse(cls, text: str) -> DebugTarget:
        name, colon, port = text.rpartition(":")
        if not colon:
            return cls(text)
        if not port.isdigit() or not 1 <= int(port) <= 65535:
            raise ValueError(f"--debug: the port must be 1 to 65535, got {port!r}")
        return cls(name, int(port))

    def port_for(self, fn: FunctionConfig) -> int:
        family = debug_family(fn.runtime)
        return self.port or DEBUG_PORTS.get(family or "", 0)

    def check(self, functions: Iterable[FunctionConfig]) -> FunctionConfig:
        """The function to debug; ValueError with a one-line reason if it cannot be."""
        fns = list(functions)
        fn = next((f for f in fns if f.name == self.function), None)
        if fn is None:
            have = ", ".join(f.name for f in fns)
            raise ValueError(f"--debug: no function named '{self.function}' (have: {have})")
        if fn.package_type == "Image" or fn.sandbox == "docker":
            raise ValueError(
                f"--debug: function '{fn.name}' runs in docker; debugging needs the process sandbox"
            )
        if debug_family(fn.runtime) is None:
            raise ValueError(
                f"--debug: function '{fn.name}' runs {fn.runtime}; a debugger attaches to "
                "python3.x (debugpy) and nodejs (inspector) functions"
            )
        return fn

    def apply(self, fn: FunctionConfig) -> FunctionConfig:
        return replace(
            fn,
            debug_port=self.port_for(fn),
            timeout_s=DEBUG_TIMEOUT_S,
            reserved_concurrency=1,
            provisioned_concurrency=0,
        )


@dataclass(frozen=True)
class EnvOverrides:
    """`--env-file` and `--env-vars`, read."""

    env_file: Path | None = None
    env_vars: Path | None = None
    dotenv: Mapping[str, str] = field(default_factory=_empty)
    parameters: Mapping[str, str] = field(default_factory=_empty)
    functions: Mapping[str, Mapping[str, str]] = field(default_factory=_empty_functions)

    @classmethod
    def read(cls, env_file: Path | None, env_vars: Path | None) -> EnvOverrides:
        """Parse both files (ManifestError naming the file, and the line or field)."""
        env_file = env_file.resolve() if env_file is not None else None
        env_vars = env_vars.resolve() if env_vars is not None else None
        dotenv = read_dotenv(env_file) if env_file is not None else {}
        parameters: dict[str, str] = {}
        functions: dict[str, dict[str, str]] = {}
        if env_vars is not None:
            parameters, functions = read_env_vars(env_vars)
        return cls(
            env_file,
            env_vars,
            MappingProxyType(dotenv),
            MappingProxyType(parameters),
            MappingProxyType({k: MappingProxyType(v) for k, v in functions.items()}),
        )

    @property
    def sources(self) -> tuple[Path, ...]:
        return tuple(p for p in (self.env_file, self.env_vars) if p is not None)

    def reread(self) -> EnvOverrides:
        return EnvOverrides.read(self.env_file, self.env_vars)

    def environment(self, fn: FunctionConfig) -> dict[str, str]:
        env = dict(fn.environment)
        declared = _declared(fn)
        env.update(self.dotenv)
        for layer in (self.parameters, self.functions.get(fn.name, {})):
            env.update({k: v for k, v in layer.items() if k in declared})
        return env

    def ignored(self, fn: FunctionConfig) -> list[str]:
        """Names (never values) in this function's `--env-vars` object it does not declare."""
        return sorted(set(self.functions.get(fn.name, {})) - _declared(fn))


def _declared(fn: FunctionConfig) -> set[str]:
    return set(fn.environment) | set(fn.unresolved_env)


@dataclass(frozen=True)
class FunctionOverrides:
    env: EnvOverrides | None = None
    debug: DebugTarget | None = None

    @property
    def sources(self) -> tuple[Path, ...]:
        return self.env.sources if self.env is not None else ()

    def reread(self) -> FunctionOverrides:
        """The same flags with the files read again (hot reload)."""
        return replace(self, env=self.env.reread() if self.env is not None else None)

    def apply(self, functions: Iterable[FunctionConfig]) -> tuple[FunctionConfig, ...]:
        return tuple(self.apply_one(fn) for fn in functions)

    def apply_one(self, fn: FunctionConfig) -> FunctionConfig:
        if self.env is not None:
            fn = replace(fn, environment=MappingProxyType(self.env.environment(fn)))
        if self.debug is not None and self.debug.function == fn.name:
            fn = self.debug.apply(fn)
        return fn

    def notes(self, functions: Iterable[FunctionConfig]) -> list[str]:
        """What the user may not expect, in names only: an --env-vars object that names no
        function, variables it sets that a function does not declare (SAM CLI ignores them
        silently), an environment past Lambda's 4 KB."""
        fns = list(functions)
        out: list[str] = []
        env = self.env
        if env is None:
            return out
        names = {fn.name for fn in fns}
        source = env.env_vars.name if env.env_vars is not None else ""
        for name in env.functions:
            if name not in names:
                have = ", ".join(sorted(names))
                out.append(f"{source}: '{name}' names no function (have: {have})")
        unused = set(env.parameters) - set().union(*(_declared(fn) for fn in fns))
        if unused:
            out.append(
                f"{source}: no function declares {', '.join(sorted(unused))} (Parameters): "
                "not set (as SAM CLI; declare it, or use --env-file)"
            )
        for fn in fns:
            ignored = env.ignored(fn)
            if ignored:
                out.append(
                    f"{source}: function '{fn.name}' does not declare {', '.join(ignored)} in "
                    "its Environment: not set (as SAM CLI; declare it, or use --env-file)"
                )
            size = environment_size(env.environment(fn))
            if size > ENV_MAX_BYTES:
                out.append(
                    f"function '{fn.name}': its environment with the overrides is {size} "
                    f"bytes; Lambda refuses more than {ENV_MAX_BYTES}"
                )
        return out
