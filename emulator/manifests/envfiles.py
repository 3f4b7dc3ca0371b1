"""Environment files: `--env-file .env` (dotenv) and `--env-vars env.json` (SAM CLI's format).

Both are read once at the edge into plain mappings; `emulator/overrides.py` applies them to
the manifest's functions. A bad file is one `ManifestError` line naming the file and the line
(dotenv) or the field (JSON), never a value: values are often secrets.

dotenv, as this reader takes it (a subset of what python-dotenv and Docker Compose read):

    # a comment line                  blank lines and comment lines are skipped
    export KEY=value                  `export ` in front is allowed
    KEY = value   # comment           unquoted: trimmed; ` #` starts a comment
    KEY='literal $HOME \\n'           single quotes: taken as written, may span lines
    KEY="a\\nb \\"q\\""                double quotes: \\n \\r \\t \\" \\\\ escapes, may span lines
    KEY=                              empty value

No `${VAR}` expansion (as `docker run --env-file`), no line without `=`. The last of two
lines for the same key wins.

SAM's JSON (docs: serverless-sam-cli-using-invoke.html, "Environment variable file"):

    {"Parameters": {"KEY": "v"}, "MyFunction": {"KEY": "v"}}

Values may be strings, numbers or booleans (`true` → "true", as SAM CLI's
`EnvironmentVariables._stringify_value` writes them).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

from emulator.errors import ManifestError
from emulator.manifests.validate import ENV_KEY_PATTERN, RESERVED_ENV_KEYS

_KEY_RE = re.compile(ENV_KEY_PATTERN)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
PARAMETERS = "Parameters"


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")  # a BOM is not part of the first name
    except FileNotFoundError:
        raise ManifestError(path, "no such file") from None
    except UnicodeDecodeError:
        raise ManifestError(path, "not UTF-8 text") from None
    except OSError as exc:
        raise ManifestError(path, f"cannot read: {exc.strerror}") from None


class ErrorAt:
    """Makes the one-line error for one place in a file."""

    def __init__(self, path: Path | str, field: str | None = None) -> None:
        self.path = path
        self.field = field

    def __call__(self, message: str) -> ManifestError:
        return ManifestError(self.path, message, field=self.field)


def check_key(key: str, fail: ErrorAt) -> None:
    """Lambda's rules for a variable name (the same the manifests follow)."""
    if not _KEY_RE.fullmatch(key):
        raise fail(f"variable names must match {ENV_KEY_PATTERN}, got {key!r}")
    if key in RESERVED_ENV_KEYS:
        raise fail(f"variable names must not be reserved by Lambda, got {key!r}")


def read_dotenv(path: Path) -> dict[str, str]:
    """KEY → value from a dotenv file (the module's docstring says what is read)."""
    text = _read_text(path)
    out: dict[str, str] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        lineno = i + 1
        fail = ErrorAt(f"{path}:{lineno}")
        line = lines[i].strip()
        i += 1
        if not line or line.startswith("#"):
            continue
        if line.startswith("export ") or line.startswith("export\t"):
            line = line[len("export") :].lstrip()
        key, eq, rest = line.partition("=")
        key = key.strip()
        if not eq:
            raise fail("expected KEY=VALUE")
        check_key(key, fail)
        rest = rest.lstrip()
        if rest[:1] in ("'", '"'):
            quote = rest[0]
            body = rest[1:]
            # A quoted value may go on over the next lines until its closing quote.
            while _closing(body, quote) < 0 and i < len(lines):
                body += "\n" + lines[i]
                i += 1
            end = _closing(body, quote)
            if end < 0:
                raise fail(f"{key}: the value's closing {quote} is missing")
            trailing = body[end + 1 :].strip()
            if trailing and not trailing.startswith("#"):
                raise fail(f"{key}: unexpected text after the closing {quote}")
            value = body[:end]
            out[key] = _unescape(value) if quote == '"' else value
        else:
            comment = re.search(r"\s#", rest)
            out[key] = (rest[: comment.start()] if comment else rest).strip()
    return out


def _closing(body: str, quote: str) -> int:
    """Index of the quote that closes `body` (escaped ones skipped in double quotes), or -1."""
    i = 0
    while i < len(body):
        ch = body[i]
        if quote == '"' and ch == "\\":
            i += 2
            continue
        if ch == quote:
            return i
        i += 1
    return -1


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), value, flags=re.S)


def read_env_vars(path: Path) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """(Parameters, {function: variables}) from a SAM CLI `--env-vars` JSON file."""
    text = _read_text(path)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        # the position, never the text around it (it may hold a secret)
        raise ManifestError(
            path, f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    if not isinstance(doc, dict):
        raise ManifestError(
            path,
            'must be a JSON object: {"Parameters": {"KEY": "value"}, '
            '"FunctionLogicalId": {"KEY": "value"}}',
        )
    parameters: dict[str, str] = {}
    functions: dict[str, dict[str, str]] = {}
    for name, variables in doc.items():
        field = str(name)
        values = _variables(path, field, variables)
        if name == PARAMETERS:
            parameters = values
        else:
            functions[field] = values
    return parameters, functions


def _variables(path: Path, field: str, variables: object) -> dict[str, str]:
    if not isinstance(variables, dict):
        # SAM CLI: "Environment variables must be in either CloudFormation parameter file
        # format or in {FunctionName: {key:value}} JSON pairs" (OverridesNotWellDefinedError)
        raise ManifestError(path, 'must be an object of variables ({"KEY": "value"})', field=field)
    out: dict[str, str] = {}
    for key, value in variables.items():
        fail = ErrorAt(path, f"{field}.{key}")
        check_key(str(key), fail)
        out[str(key)] = _stringify(value, fail)
    return out


def _stringify(value: object, fail: ErrorAt) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    kind = "null" if value is None else type(value).__name__
    raise fail(f"must be a string, number or boolean, got a {kind}")


def environment_size(env: Mapping[str, str]) -> int:
    """Bytes Lambda counts against its 4 KB limit: names plus values, UTF-8."""
    return sum(len(k.encode()) + len(v.encode()) for k, v in env.items())
