"""The pytest plugin's own behaviour, run in an inner pytest session (pytester)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

CONFTEST = """
import pytest
from emulator.config import EmulatorConfig, FunctionConfig


@pytest.fixture(scope="session")
def lambda_emu_config(tmp_path_factory):
    code = tmp_path_factory.mktemp("code")
    fn = FunctionConfig("echo", "python3.11", "app.handler", code, sandbox="fake")
    return EmulatorConfig(
        functions=(fn,), port=0, sandbox="fake", state_dir=tmp_path_factory.mktemp("state"),
        log_to_terminal=False,
    )
"""


def test_a_test_fails_when_the_emulator_hit_an_internal_error(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(
        """
        def test_fine(invoke):
            assert invoke("echo", {"a": 1}).json() == {"echo": {"a": 1}}

        def test_broken(invoke, lambda_emulator):
            invoke("echo", {})
            lambda_emulator.emulator.report_internal_error(RuntimeError("our own bug"))
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*lambda-emu hit 1 internal error(s) during the test: RuntimeError('our own bug')*"]
    )


def test_the_env_file_options_reach_the_functions(pytester: pytest.Pytester) -> None:
    pytester.makefile(
        ".toml",
        **{
            "lambda-emu": """
            [functions.fn]
            runtime = "python3.12"
            handler = "app.handler"
            code = "."
            environment = { STAGE = "prod", TABLE = "t" }
            """
        },
    )
    pytester.makefile(".env", local="STAGE=local\nEXTRA=yes\n")
    pytester.makefile(".json", env='{"fn": {"TABLE": "local-table"}}')
    pytester.makepyfile(
        """
        def test_env(lambda_emu_config):
            (fn,) = lambda_emu_config.functions
            assert dict(fn.environment) == {
                "STAGE": "local", "TABLE": "local-table", "EXTRA": "yes"
            }
        """
    )
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "--lambda-emu-env-file",
        "local.env",
        "-o",
        "lambda_emu_env_vars=env.json",
    )
    result.assert_outcomes(passed=1)
