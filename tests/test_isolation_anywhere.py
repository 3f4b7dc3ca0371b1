"""Isolation holds wherever the function's code lives (docs/security.md, issue 19 item 2).

A checkout under /tmp once made every function run as root, see the host's /tmp and write
its own code directory, while serve, doctor and /_emu/health said "functions run as nobody,
/tmp private per environment". Here the same function is served from code under the host's
/tmp (in a mode-0700 directory, as mkdtemp makes it), under /root (0700), under a home
directory (0750) and in a plain place, with its state directory beside it as a checkout
would have it; each time it must run as nobody, see none of the host's /tmp and get EROFS
writing its code. Where isolation cannot hold (here forced with --function-user root and
--no-private-tmp), serve's start line and /_emu/health say so for that function, and the
function really can do what they say.
"""

from __future__ import annotations

import errno
import os
import pwd
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from serving import Serve

from emulator.sandbox.process import can_mount_private_tmp

FUNCTION = Path(__file__).parent / "functions" / "isolation"
MANIFEST = '[functions.iso]\nruntime = "python3.11"\nhandler = "app.handler"\ncode = "iso"\n'

as_root = pytest.mark.skipif(
    not can_mount_private_tmp(), reason="needs root and unshare (a mount namespace)"
)


def _place(kind: str) -> Path:
    if kind == "tmp":
        return Path(tempfile.mkdtemp(prefix="lambda-emu-iso-", dir="/tmp"))  # mode 0700
    parent = {"root": "/root", "home": "/home", "plain": "/var/lib"}[kind]
    if not Path(parent).is_dir():
        pytest.skip(f"no {parent} here")
    place = Path(parent) / f"lambda-emu-iso-{uuid.uuid4().hex[:8]}"
    place.mkdir(mode={"root": 0o700, "home": 0o750, "plain": 0o755}[kind])
    os.chmod(place, {"root": 0o700, "home": 0o750, "plain": 0o755}[kind])
    return place


@pytest.fixture
def marker() -> Iterator[str]:
    """A file in the host's /tmp that an isolated function must not see."""
    name = f"lambda-emu-host-marker-{uuid.uuid4().hex}"
    Path("/tmp", name).touch()
    yield name
    Path("/tmp", name).unlink()


@pytest.fixture
def secret() -> Iterator[Path]:
    """A file of root's (/root, 0700) that the function's user must not see, even where its
    code or runtime lives below /root (docs/security.md: root's private paths are hidden)."""
    path = Path("/root", f"lambda-emu-secret-{uuid.uuid4().hex}")
    path.touch(mode=0o644)  # readable by anyone who could reach it
    yield path
    path.unlink()


def _serve(place: Path, *args: str) -> Serve:
    shutil.copytree(FUNCTION, place / "iso")
    (place / "lambda-emu.toml").write_text(MANIFEST)
    return Serve(place / "lambda-emu.toml", place / ".lambda-emu", *args)


def _invoke(serve: Serve, marker: str, secret: Path | None = None) -> dict[str, object]:
    url = f"{serve.url}/2015-03-31/functions/iso/invocations"
    answer = httpx.post(url, json={"marker": marker, "secret": str(secret or "")}, timeout=60)
    assert answer.status_code == 200, answer.text
    result: dict[str, object] = answer.json()
    return result


@as_root
@pytest.mark.parametrize("kind", ["tmp", "root", "home", "plain"])
def test_isolation_holds_wherever_the_code_lives(kind: str, marker: str, secret: Path) -> None:
    place = _place(kind)
    try:
        serve = _serve(place)
        try:
            result = _invoke(serve, marker, secret)
            health = httpx.get(f"{serve.url}/_emu/health").json()
            output = serve.output
        finally:
            serve.stop()
        assert result["uid"] == pwd.getpwnam("nobody").pw_uid
        assert result["sees_host_tmp"] is False
        assert result["sees_root_secret"] is False
        assert result["write_code"] == errno.EROFS
        assert result["write_tmp"] == 0
        assert result["code"] == str(place / "iso")  # found at its own path
        assert not (place / "iso" / "written-by-the-function").exists()
        assert health["isolation"] == {"iso": []}
        assert health["function_uid"] == pwd.getpwnam("nobody").pw_uid
        assert "functions run as nobody" in output and "/tmp private per environment" in output
        assert "not isolated" not in output
    finally:
        shutil.rmtree(place, ignore_errors=True)


@as_root
@pytest.mark.parametrize(
    ("args", "gaps"),
    [
        (("--function-user", "root"), ["runs as uid 0 (root)"]),
        (
            ("--no-private-tmp",),
            ["runs as uid 0 (root)", "sees the host's /tmp", "can write its code directory"],
        ),
    ],
)
def test_where_isolation_does_not_hold_it_is_said_per_function(
    args: tuple[str, ...], gaps: list[str], marker: str
) -> None:
    place = _place("tmp")
    try:
        serve = _serve(place, *args)
        try:
            result = _invoke(serve, marker)
            health = httpx.get(f"{serve.url}/_emu/health").json()
            output = serve.output
        finally:
            serve.stop()
        assert health["isolation"] == {"iso": gaps}
        assert f"⚠ function 'iso' is not isolated: it {', '.join(gaps)}" in output
        # and what they say is so
        assert result["uid"] == 0
        private = "sees the host's /tmp" not in gaps
        assert result["sees_host_tmp"] is not private
        assert (result["write_code"] == 0) is not private
    finally:
        shutil.rmtree(place, ignore_errors=True)
