"""`--env-file` and `--env-vars` (issue 20, item 2): the readers, the precedence, SAM CLI's
"only declared variables" rule, and that no value ever reaches the emulator's own output."""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
from pathlib import Path
from types import MappingProxyType
from typing import Any

import httpx
import pytest
from serving import Serve
from typer.testing import CliRunner

from emulator.cli import app
from emulator.config import FunctionConfig
from emulator.errors import ManifestError
from emulator.manifests import load_manifest
from emulator.manifests.envfiles import read_dotenv, read_env_vars
from emulator.overrides import EnvOverrides, FunctionOverrides

FUNCTIONS = Path(__file__).parent / "functions" / "debug"
MANIFEST = FUNCTIONS / "lambda-emu.toml"


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# --- dotenv ---------------------------------------------------------------------------------
def test_dotenv_with_a_bom_and_crlf(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_bytes(b"\xef\xbb\xbfFIRST=1\r\nSECOND='two'\r\n")
    assert read_dotenv(env) == {"FIRST": "1", "SECOND": "two"}


def test_dotenv_reads_what_the_docs_say(tmp_path: Path) -> None:
    env = _write(
        tmp_path / ".env",
        "# comment\n"
        "\n"
        "PLAIN=value\n"
        "export EXPORTED=yes\n"
        "  SPACED  =  padded value   # trailing comment\n"
        "HASH=a#b\n"
        "SINGLE='lit $HOME \\n # not a comment'\n"
        'DOUBLE="tab\\there \\"q\\" back\\\\slash"\n'
        'MULTI="line one\n'
        'line two"\n'
        "EMPTY=\n"
        "EQUALS=a=b=c\n"
        "PLAIN=last wins\n",
    )
    assert read_dotenv(env) == {
        "PLAIN": "last wins",
        "EXPORTED": "yes",
        "SPACED": "padded value",
        "HASH": "a#b",
        "SINGLE": "lit $HOME \\n # not a comment",
        "DOUBLE": 'tab\there "q" back\\slash',
        "MULTI": "line one\nline two",
        "EMPTY": "",
        "EQUALS": "a=b=c",
    }


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("OK=1\nNO_EQUALS_s3cr3t\n", 2, "expected KEY=VALUE"),
        ("1BAD=s3cr3t\n", 1, "variable names must match"),
        ("AWS_REGION=s3cr3t\n", 1, "reserved by Lambda"),
        ('\nOPEN="s3cr3t\nmore\n', 2, 'closing " is missing'),
        ("XY='s3cr3t' tail\n", 1, "unexpected text after the closing '"),
    ],
)
def test_a_bad_dotenv_line_is_one_line_naming_it_never_the_value(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    env = _write(tmp_path / "bad.env", text)
    with pytest.raises(ManifestError) as caught:
        read_dotenv(env)
    said = str(caught.value)
    assert said.startswith(f"{env}:{line}: ") and message in said
    assert "s3cr3t" not in said and "\n" not in said


# --- SAM's JSON -----------------------------------------------------------------------------
def test_env_vars_json_reads_parameters_and_functions(tmp_path: Path) -> None:
    doc = {"Parameters": {"AA": "1", "BB": 2, "CC": True}, "Fn": {"DD": 1.5, "EE": False}}
    parameters, functions = read_env_vars(_write(tmp_path / "env.json", json.dumps(doc)))
    assert parameters == {"AA": "1", "BB": "2", "CC": "true"}  # as SAM CLI stringifies them
    assert functions == {"Fn": {"DD": "1.5", "EE": "false"}}


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ('{"Fn": {"KK": "s3cr3t",}}', "not valid JSON"),
        ('["s3cr3t"]', "must be a JSON object"),
        ('{"Fn": "s3cr3t"}', "field 'Fn': must be an object of variables"),
        ('{"Fn": {"KK": ["s3cr3t"]}}', "field 'Fn.KK': must be a string, number or boolean"),
        ('{"Parameters": {"AWS_REGION": "s3cr3t"}}', "field 'Parameters.AWS_REGION'"),
    ],
)
def test_a_bad_env_vars_file_is_one_line_naming_the_field(
    tmp_path: Path, doc: str, message: str
) -> None:
    path = _write(tmp_path / "env.json", doc)
    with pytest.raises(ManifestError) as caught:
        read_env_vars(path)
    said = str(caught.value)
    assert said.startswith(str(path)) and message in said
    assert "s3cr3t" not in said and "\n" not in said


# --- precedence -----------------------------------------------------------------------------
def _fn(name: str, env: dict[str, str], unresolved: tuple[str, ...] = ()) -> FunctionConfig:
    return FunctionConfig(
        name=name,
        runtime="python3.12",
        handler="app.handler",
        code_dir=Path("/x"),
        environment=MappingProxyType(env),
        unresolved_env=unresolved,
    )


def test_precedence_manifest_env_file_parameters_function() -> None:
    overrides = FunctionOverrides(
        env=EnvOverrides(
            dotenv=MappingProxyType({"A": "dotenv", "B": "dotenv", "NEW": "dotenv"}),
            parameters=MappingProxyType({"A": "param", "C": "param", "UNDECLARED": "param"}),
            functions=MappingProxyType(
                {"f": MappingProxyType({"A": "fn", "D": "fn", "UNDECLARED2": "fn"})}
            ),
        )
    )
    fns = (
        _fn("f", {"A": "m", "B": "m", "C": "m", "D": "m", "E": "m"}, unresolved=("T",)),
        _fn("g", {"A": "m", "D": "m"}),
    )
    f, g = overrides.apply(fns)
    assert dict(f.environment) == {
        "A": "fn",  # the function's object over Parameters over .env over the manifest
        "B": "dotenv",
        "C": "param",
        "D": "fn",
        "E": "m",
        "NEW": "dotenv",  # --env-file adds
    }  # --env-vars never adds (SAM CLI): UNDECLARED, UNDECLARED2 are not set
    assert dict(g.environment) == {"A": "param", "D": "m", "B": "dotenv", "NEW": "dotenv"}
    # a variable the manifest declares with an intrinsic it cannot resolve may be set
    t = FunctionOverrides(
        env=EnvOverrides(functions=MappingProxyType({"f": MappingProxyType({"T": "tbl"})}))
    ).apply(fns)[0]
    assert t.environment["T"] == "tbl"
    notes = overrides.notes(fns)
    assert any("function 'f' does not declare UNDECLARED2" in n for n in notes)
    assert any("no function declares UNDECLARED (Parameters)" in n for n in notes)
    assert not any("dotenv" in n or "param" in n.split(":")[-1] for n in notes)


def test_a_sam_intrinsic_variable_is_declared_for_env_vars(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    template = _write(
        tmp_path / "template.yaml",
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  Table:\n"
        "    Type: AWS::DynamoDB::Table\n"
        "  Fn:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        "      CodeUri: src/\n"
        "      Handler: app.handler\n"
        "      Runtime: python3.12\n"
        "      Environment:\n"
        "        Variables:\n"
        "          TABLE_NAME: !GetAtt Table.Arn\n"
        "          STAGE: prod\n",
    )
    (fn,) = load_manifest(template)
    assert "TABLE_NAME" not in fn.environment and fn.unresolved_env == ("TABLE_NAME",)
    env_json = _write(tmp_path / "env.json", '{"Fn": {"TABLE_NAME": "local-table"}}')
    (fn,) = FunctionOverrides(env=EnvOverrides.read(None, env_json)).apply((fn,))
    assert dict(fn.environment) == {"STAGE": "prod", "TABLE_NAME": "local-table"}


# --- end to end: serve, invoke, and nothing printed -----------------------------------------
def _invoke(url: str, name: str, names: list[str]) -> dict[str, Any]:
    answer = httpx.post(
        f"{url}/2015-03-31/functions/{name}/invocations", json={"names": names}, timeout=120
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _everything_written(root: Path) -> str:
    return "\n".join(
        p.read_text(errors="replace")
        for p in root.rglob("*")
        if p.is_file() and p.suffix != ".sqlite3"
    )


def test_serve_applies_both_files_and_never_prints_a_value(tmp_path: Path) -> None:
    secret = {k: f"s3cr3t-{k}-{secrets.token_hex(8)}" for k in ("dot", "param", "fn", "new")}
    env_file = _write(tmp_path / ".env", f"STAGE={secret['dot']}\nNEW_ONE='{secret['new']}'\n")
    env_vars = _write(
        tmp_path / "env.json",
        json.dumps(
            {
                "Parameters": {"TABLE": secret["param"]},
                "envcheck": {"KEEP": secret["fn"], "NOT_DECLARED": "x"},
            }
        ),
    )
    state = tmp_path / "state"
    serve = Serve(MANIFEST, state, "--env-file", str(env_file), "--env-vars", str(env_vars))
    try:
        names = ["STAGE", "TABLE", "KEEP", "NEW_ONE", "NOT_DECLARED"]
        got = _invoke(serve.url, "envcheck", names)
        assert got == {
            "STAGE": _digest(secret["dot"]),
            "TABLE": _digest(secret["param"]),
            "KEEP": _digest(secret["fn"]),
            "NEW_ONE": _digest(secret["new"]),
            "NOT_DECLARED": None,
        }
        other = _invoke(serve.url, "other", ["STAGE", "TABLE", "KEEP"])
        assert other == {"STAGE": _digest(secret["dot"]), "TABLE": None, "KEEP": None}
        control = [
            httpx.get(f"{serve.url}/_emu/{path}", timeout=30).text
            for path in ("health", "functions", "environments")
        ]
        metrics = httpx.get(f"{serve.url}/metrics", timeout=30).text
    finally:
        serve.stop()
    assert "does not declare NOT_DECLARED" in serve.output  # the name, said once
    written = "\n".join([serve.output, *control, metrics, _everything_written(state)])
    for value in secret.values():
        assert value not in written


def test_invoke_takes_the_files_too(tmp_path: Path) -> None:
    secret = f"s3cr3t-{secrets.token_hex(8)}"
    env_file = _write(tmp_path / ".env", f'export STAGE="{secret}"\n')
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "invoke",
            "envcheck",
            "-m",
            str(MANIFEST),
            "--env-file",
            str(env_file),
            "--payload",
            '{"names": ["STAGE"]}',
        ],
    )
    assert result.exit_code == 0, result.output
    assert _digest(secret) in result.stdout
    assert secret not in result.output


def test_a_bad_file_stops_serve_with_one_line(tmp_path: Path) -> None:
    bad = _write(tmp_path / "bad.env", "GOOD=1\nBROKEN s3cr3t\n")
    runner = CliRunner()
    for command in (["serve"], ["invoke", "envcheck"], ["tune", "envcheck"]):
        result = runner.invoke(app, [*command, "-m", str(MANIFEST), "--env-file", str(bad)])
        assert result.exit_code == 2, result.output
        assert result.output.strip() == f"lambda-emu: {bad}:2: expected KEY=VALUE"
    missing = tmp_path / "nope.json"
    result = runner.invoke(app, ["serve", "-m", str(MANIFEST), "--env-vars", str(missing)])
    assert result.output.strip() == f"lambda-emu: {missing}: no such file"


def test_hot_reload_reads_a_changed_env_file(tmp_path: Path) -> None:
    code = tmp_path / "fn"
    shutil.copytree(FUNCTIONS / "envcheck", code)
    manifest = _write(
        tmp_path / "lambda-emu.toml",
        '[functions.envcheck]\nruntime = "python3.11"\nhandler = "app.handler"\ncode = "fn"\n',
    )
    env_file = _write(tmp_path / ".env", "STAGE=one\n")
    serve = Serve(manifest, tmp_path / "state", "--env-file", str(env_file), "--reload")
    try:
        assert _invoke(serve.url, "envcheck", ["STAGE"]) == {"STAGE": _digest("one")}
        mark = len(serve.lines)
        env_file.write_text("STAGE=two\n")
        serve.wait_for(r"function 'envcheck' reloaded", start=mark)
        assert _invoke(serve.url, "envcheck", ["STAGE"]) == {"STAGE": _digest("two")}
    finally:
        serve.stop()
