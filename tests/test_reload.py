"""Hot reload: edited code and manifest entries are served by fresh environments."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from waiting import eventually

from emulator.client import InvokeClient
from emulator.config import EmulatorConfig
from emulator.embedded import EmulatorThread
from emulator.manifests import load_manifest
from emulator.metrics.report import Report

APP = """import os, time
def handler(event, context):
    time.sleep(float(event.get("sleep", 0)))
    return {{"version": {version}, "pid": os.getpid()}}
"""
MANIFEST = """[defaults]
runtime = "python3.11"
handler = "app.handler"
timeout = 10

[functions.fn]
code = "fn"
memory = {memory}
"""
SECOND = """
[functions.other]
code = "fn"
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "fn").mkdir()
    (tmp_path / "fn" / "app.py").write_text(APP.format(version=1))
    (tmp_path / "lambda-emu.toml").write_text(MANIFEST.format(memory=128))
    return tmp_path


def _hot_reloading(project: Path) -> EmulatorConfig:
    manifest = project / "lambda-emu.toml"
    return EmulatorConfig(
        functions=load_manifest(manifest),
        port=0,
        state_dir=project / "state",
        log_to_terminal=False,
        manifest_path=manifest,
        hot_reload=True,
    )


@pytest.fixture
def served(project: Path) -> Iterator[EmulatorThread]:
    running = EmulatorThread(_hot_reloading(project)).start()
    try:
        yield running
    finally:
        running.stop()


def _invoke(
    emu: EmulatorThread, name: str, sleep: float = 0
) -> tuple[int, dict[str, object], Report | None]:
    with InvokeClient(emu.url, timeout=30) as client:
        resp = client.invoke(name, {"sleep": sleep})
    return resp.status, resp.json(), resp.report


def _reloads(emu: EmulatorThread) -> int:
    assert emu.emulator is not None and emu.emulator.reloader is not None
    return emu.emulator.reloader.reloads


def test_edited_code_goes_to_fresh_environments_running_ones_finish(
    served: EmulatorThread, project: Path
) -> None:
    status, body, _ = _invoke(served, "fn")
    assert status == 200 and body["version"] == 1
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(_invoke, served, "fn", 1.5)
        time.sleep(0.3)
        (project / "fn" / "app.py").write_text(APP.format(version=2))
        eventually(lambda: _reloads(served) >= 1, "a reload")
        _, new, report = _invoke(served, "fn")
        _, old, _ = running.result()
    assert old["version"] == 1  # the running invocation finished on the old code
    assert new["version"] == 2 and report is not None and report.cold
    assert new["pid"] != old["pid"]
    # the old environment was drained and removed
    assert served.emulator is not None
    eventually(lambda: len(served.emulator.functions["fn"].envs) == 1, "old environment removed")  # type: ignore[union-attr]


def test_manifest_changes_apply_and_a_broken_manifest_keeps_serving(
    served: EmulatorThread, project: Path
) -> None:
    manifest = project / "lambda-emu.toml"
    manifest.write_text(MANIFEST.format(memory=256) + SECOND)
    eventually(lambda: _reloads(served) >= 1, "a reload")
    _, _, report = _invoke(served, "fn")
    assert report is not None and report.memory_mb == 256 and report.cold
    assert _invoke(served, "other")[0] == 200  # added

    manifest.write_text("[functions.fn]\nmemory = 'lots'\n")  # broken: nothing changes
    time.sleep(1.0)
    assert _invoke(served, "fn")[0] == 200

    manifest.write_text(MANIFEST.format(memory=256))  # "other" removed
    eventually(lambda: _invoke(served, "other")[0] == 404, "other removed")
    assert _invoke(served, "fn")[0] == 200


def test_a_watcher_still_walking_a_large_tree_does_not_hold_up_serving(
    project: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """Setting the watcher up walks every directory it follows (a node_modules next to the
    manifest: minutes). It runs in a thread: serving starts, says the watcher is not live yet,
    and edits are followed once it is."""
    import watchfiles

    from emulator import reload

    walked = threading.Event()
    real_watch = watchfiles.watch

    def slow_walk(*args: Any, **kwargs: Any) -> Iterator[set[tuple[watchfiles.Change, str]]]:
        walked.wait(60)  # stands for the walk of a huge tree
        yield from real_watch(*args, **kwargs)

    monkeypatch.setattr(watchfiles, "watch", slow_walk)
    monkeypatch.setattr(reload, "WATCH_READY_S", 0.2)
    running = EmulatorThread(_hot_reloading(project)).start()
    try:
        assert "the watcher is still walking" in capfd.readouterr().err
        status, body, _ = _invoke(running, "fn")  # served while the walk goes on
        assert status == 200 and body["version"] == 1
        walked.set()
        assert running.emulator is not None and running.emulator.reloader is not None
        live = running.emulator.reloader._watching
        eventually(live.is_set, "the watcher live")
        (project / "fn" / "app.py").write_text(APP.format(version=2))
        eventually(lambda: _reloads(running) >= 1, "a reload")
        assert _invoke(running, "fn")[1]["version"] == 2
    finally:
        walked.set()
        running.stop()
