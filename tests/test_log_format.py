"""LoggingConfig from both manifests, and what a Python function's log lines become with it.

Sources: botocore's lambda model (LoggingConfig: LogFormat JSON|Text, ApplicationLogLevel
TRACE…FATAL); docs python-logging.html "Using Lambda advanced logging controls with Python":
with the JSON format the runtime writes each `logging` record as one JSON object with
timestamp, level, message, logger and requestId, and drops records below the application log
level (INFO unless configured)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emulator.config import EmulatorConfig
from emulator.embedded import EmbeddedEmulator
from emulator.errors import ManifestError
from emulator.manifests import load_manifest

DATA = Path(__file__).parent / "data" / "json_logs"


def _toml(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "lambda-emu.toml"
    path.write_text(
        "[functions.logs]\n"
        'runtime = "python3.12"\n'
        'handler = "app.handler"\n'
        f'code = "{DATA}"\n' + extra
    )
    return path


def test_native_manifest_reads_log_format_and_level(tmp_path: Path) -> None:
    (fn,) = load_manifest(_toml(tmp_path, 'log_format = "JSON"\napplication_log_level = "warn"\n'))
    assert fn.log_format == "JSON" and fn.application_log_level == "WARN"
    (plain,) = load_manifest(_toml(tmp_path, ""))
    assert plain.log_format == "Text" and plain.application_log_level is None


def test_sam_logging_config_is_read(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(
        "Resources:\n"
        "  Logs:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        f"      CodeUri: {DATA}\n"
        "      Handler: app.handler\n"
        "      Runtime: python3.12\n"
        "      LoggingConfig:\n"
        "        LogFormat: JSON\n"
        "        ApplicationLogLevel: DEBUG\n"
    )
    (fn,) = load_manifest(path)
    assert fn.log_format == "JSON" and fn.application_log_level == "DEBUG"


@pytest.mark.parametrize(
    ("extra", "field", "words"),
    [
        ('log_format = "YAML"\n', "log_format", "must be 'Text' or 'JSON'"),
        (
            'log_format = "JSON"\napplication_log_level = "LOUD"\n',
            "application_log_level",
            "must be one of TRACE",
        ),
        ('application_log_level = "INFO"\n', "application_log_level", "needs log_format"),
    ],
)
def test_bad_logging_values_are_one_line_errors(
    tmp_path: Path, extra: str, field: str, words: str
) -> None:
    with pytest.raises(ManifestError) as caught:
        load_manifest(_toml(tmp_path, extra))
    message = str(caught.value)
    assert "\n" not in message and field in message and words in message


def test_python_logging_records_come_out_as_json(tmp_path: Path) -> None:
    (fn,) = load_manifest(_toml(tmp_path, 'log_format = "JSON"\n'))
    cfg = EmulatorConfig(
        functions=(fn,), port=0, state_dir=tmp_path / "state", log_to_terminal=False
    )
    emulator = EmbeddedEmulator(cfg).start()
    try:
        from emulator.client import InvokeClient

        with InvokeClient(emulator.url) as client:
            result = client.invoke("logs", {}, log_tail=True)
    finally:
        emulator.stop()
    assert emulator.internal_errors == []
    assert result.status == 200 and json.loads(result.payload) == {"ok": True}
    records = [json.loads(line) for line in result.log.splitlines() if line.startswith("{")]
    assert [(r["level"], r["message"]) for r in records] == [
        ("INFO", "from logging"),
        ("WARNING", "careful"),
    ]
    assert all(r["requestId"] == result.request_id for r in records)
    assert "hidden at INFO" not in result.log
