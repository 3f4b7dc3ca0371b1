"""Power tuning against the CPU-bound sample: real emulator, real runtimes, real cgroups.

The sweep is small (3 short invocations per size) so the module stays well under a minute on
two shared cores; its assertions are about what a sweep produces, never about measured time.
How duration follows memory (and so which size each strategy picks) is measured by
bench/lessons.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

import pytest
from typer.testing import CliRunner

from emulator import cost, tuning
from emulator.cli import app
from emulator.config import FunctionConfig
from emulator.manifests import load_manifest
from emulator.tuning import report as tuning_report

SAMPLES = Path(__file__).resolve().parent.parent / "functions" / "lambda-emu.toml"
SIZES = (128, 256, 512, 1024, 1769, 3008)
WORK = '{"n": 100000}'  # a few ms of one vCPU: the figures do not matter here
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def sample(name: str) -> FunctionConfig:
    return next(fn for fn in load_manifest(SAMPLES) if fn.name == name)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> tuning.TuningResult:
    workload = tuning.Workload(invocations=3, payloads=tuning.payload_choices(WORK))
    return tuning.tune(
        sample("cpu_python"),
        SIZES,
        workload,
        strategy="cost",
        state_dir=tmp_path_factory.mktemp("tune-state"),
    )


@pytest.mark.slow
def test_every_size_runs_in_its_own_environments(sweep: tuning.TuningResult) -> None:
    assert [x.memory_mb for x in sweep.measurements] == list(SIZES)
    assert all(x.errors == 0 and x.invocations == 3 for x in sweep.measurements)
    # Fresh environments per size. (A second one may start when an invocation arrives before
    # the environment asked for the next event, as on Lambda.)
    assert all(x.cold_starts >= 1 for x in sweep.measurements)
    for x in sweep.measurements:
        assert x.p50_ms <= x.p95_ms
        assert x.avg_billed_ms >= x.avg_ms
        assert x.avg_init_ms is not None and x.avg_init_ms > 0
        assert 0 < x.max_memory_used_mb <= x.memory_mb
        assert x.cost_per_million_usd == pytest.approx(x.cost_per_invocation_usd * 1e6)


@pytest.mark.slow
def test_the_recommendation_follows_the_strategy(sweep: tuning.TuningResult) -> None:
    cheapest = tuning.recommend(sweep.measurements, "cost")
    fastest = tuning.recommend(sweep.measurements, "speed")
    assert sweep.recommendation == cheapest
    by_cost = min(sweep.measurements, key=lambda m: (m.cost_per_invocation_usd, m.avg_ms))
    by_speed = min(sweep.measurements, key=lambda m: (m.avg_ms, m.cost_per_invocation_usd))
    assert (cheapest.memory_mb, fastest.memory_mb) == (by_cost.memory_mb, by_speed.memory_mb)
    assert "cheapest" in cheapest.reason and "fastest" in fastest.reason
    # balanced with all the weight on one side is that side's strategy
    assert tuning.recommend(sweep.measurements, "balanced", 1.0).memory_mb == cheapest.memory_mb
    assert tuning.recommend(sweep.measurements, "balanced", 0.0).memory_mb == fastest.memory_mb


@pytest.mark.slow
def test_table_json_and_chart(sweep: tuning.TuningResult, tmp_path: Path) -> None:
    table = tuning_report.format_table(sweep)
    for size in SIZES:
        assert f"\n{size:>9}  " in table
    assert f"recommended (cost): {sweep.recommendation.memory_mb} MB" in table

    path = tmp_path / "tune.json"
    tuning_report.write_json(sweep, path)
    data = json.loads(path.read_text())
    assert data["recommendation"]["memory_mb"] == sweep.recommendation.memory_mb
    assert data["picks"]["cost"] == sweep.recommendation.memory_mb
    assert data["picks"]["speed"] == tuning.recommend(sweep.measurements, "speed").memory_mb
    assert [r["memory_mb"] for r in data["results"]] == list(SIZES)
    assert data["workload"]["payloads"] == [{"weight": 1.0, "payload": WORK}]

    html_path = tuning_report.write_chart(sweep, tmp_path / "tune.png")
    assert_png(tmp_path / "tune.png")
    assert_self_contained_html(html_path)


def assert_png(path: Path) -> None:
    from matplotlib.image import imread

    assert path.read_bytes()[:8] == PNG_MAGIC
    pixels = imread(path)
    assert pixels.shape[0] > 100 and pixels.shape[1] > 100


def assert_self_contained_html(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    parser = _Tags()
    parser.feed(text)
    assert "script" not in parser.tags
    assert not [v for v in parser.links if not v.startswith("#")], "fetches nothing"
    svg = text[text.index("<svg") : text.index("</svg>") + len("</svg>")]
    root = ElementTree.fromstring(svg)
    assert root.tag.endswith("svg")
    assert "<table>" in text and 'class="pick"' in text


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            if name in ("src", "href", "xlink:href") and value:
                self.links.append(value)


# --- the commands ----------------------------------------------------------------------------


@pytest.mark.slow
def test_tune_command_writes_its_outputs(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        [
            "tune",
            "cpu_python",
            "--manifest",
            str(SAMPLES),
            "--memory",
            "256,1769",
            "-n",
            "2",
            "--payload",
            '[{"weight": 3, "payload": {"n": 100000}}, {"weight": 1, "payload": {"n": 200000}}]',
            "--strategy",
            "speed",
            "--rate",
            "10",
            "--out",
            str(out),
            "--state-dir",
            str(tmp_path / "state"),
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads((out / "tune.json").read_text())
    faster = min(data["results"], key=lambda r: r["avg_ms"])["memory_mb"]
    assert f"recommended (speed): {faster} MB" in result.stdout
    assert "a month at 10 req/s: 256 MB $" in result.stdout
    assert "round 1/2" in result.stderr  # the progress bar's label
    assert [r["memory_mb"] for r in data["results"]] == [256, 1769]
    assert [p["weight"] for p in data["workload"]["payloads"]] == [3.0, 1.0]
    assert_png(out / "tune.png")
    assert_self_contained_html(out / "tune.html")


@pytest.mark.slow
def test_compare_two_functions(tmp_path: Path) -> None:
    json_path = tmp_path / "compare.json"
    result = CliRunner().invoke(
        app,
        [
            "compare",
            "cpu_python",
            "hello_python",
            "--manifest",
            str(SAMPLES),
            "-n",
            "3",
            "--payload",
            '{"n": 300000}',
            "--json",
            str(json_path),
            "--state-dir",
            str(tmp_path / "state"),
        ],
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    header = next(line for line in lines if "cpu_python" in line and "hello_python" in line)
    assert header.rstrip().endswith("B/A")
    for label in ("avg duration (ms)", "init (ms, cold)", "max memory used (MB)", "$ per 1M"):
        assert any(line.startswith(label) for line in lines), label
    a, b = json.loads(json_path.read_text())
    assert (a["function"], b["function"]) == ("cpu_python", "hello_python")
    assert a["memory_mb"] == 1769 and b["memory_mb"] == 128
    for m in (a, b):
        assert (m["invocations"], m["errors"]) == (3, 0)
        priced = cost.cost(1, m["avg_billed_ms"], m["memory_mb"], architecture=m["architecture"])
        assert m["cost_per_invocation_usd"] == pytest.approx(priced.total_usd)
    ratio = next(line for line in lines if line.startswith("avg duration"))
    assert ratio.rstrip().endswith("×")


@pytest.mark.slow
def test_compare_the_same_cpu_work_in_python_node_and_rust(tmp_path: Path) -> None:
    json_path = tmp_path / "compare.json"
    names = ["cpu_python", "cpu_node", "cpu_rust"]
    args = ["compare", *names, "--manifest", str(SAMPLES), "-n", "2", "-M", "512"]
    args += ["--payload", '{"n": 200000}', "--json", str(json_path)]
    result = CliRunner().invoke(app, [*args, "--state-dir", str(tmp_path / "state")])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    header = next(line for line in lines if all(name in line for name in names))
    assert header.split()[-2:] == ["B/A", "C/A"]
    for label in ("avg duration (ms)", "init (ms, cold)", "max memory used (MB)", "$ per 1M"):
        row = next(line for line in lines if line.startswith(label))
        assert row.count("×") == 2, row  # a ratio for each against cpu_python
    measured = json.loads(json_path.read_text())
    assert [m["function"] for m in measured] == names
    for m in measured:
        assert (m["invocations"], m["errors"], m["memory_mb"]) == (2, 0, 512)
        assert m["avg_ms"] > 0 and m["avg_init_ms"] > 0
        assert 0 < m["max_memory_used_mb"] <= 512
        priced = cost.cost(1, m["avg_billed_ms"], 512, architecture=m["architecture"])
        assert m["cost_per_invocation_usd"] == pytest.approx(priced.total_usd)


def test_cpu_node_returns_cpu_pythons_hash(tmp_path: Path) -> None:
    from emulator.lessons.measure import lesson_bench

    with lesson_bench(tmp_path / "state", names=["cpu_node"]) as bench:
        sample = bench.measure("cpu_node", {"n": 100_000}, warm=1)
    h = 0xCBF29CE484222325
    for i in range(100_000):
        h = ((h ^ (i & 0xFF)) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    assert [run.payload for run in sample.invocations] == [{"n": 100_000, "hash": str(h)}] * 2


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["tune", "nope"], "no function named 'nope'"),
        (["tune", "cpu_python", "--memory", "64"], "--memory: sizes must be from 128"),
        (["tune", "cpu_python", "--memory", "lots"], "--memory: not a number of MB"),
        (["tune", "cpu_python", "--strategy", "cheap"], "--strategy: must be cost, speed"),
        (["tune", "cpu_python", "--payload", "{"], "the payload is not valid JSON"),
        (["tune", "cpu_python", "--trim", "0.5"], "trim must be from 0 to below 0.5"),
        (["tune", "cpu_python", "--rate", "0"], "--rate: must be more than 0"),
        (["compare", "cpu_python", "cpu_python"], "two different functions"),
        (["compare", "cpu_python", "hello_python", "--architecture", "sparc"], "x86_64 or arm64"),
    ],
)
def test_bad_input_is_one_line(args: list[str], says: str) -> None:
    result = CliRunner().invoke(app, [*args, "--manifest", str(SAMPLES)])
    assert result.exit_code == 2
    assert result.stderr.startswith("lambda-emu: ")
    assert says in result.stderr
    assert result.stderr.count("\n") == 1


def test_a_broken_price_file_names_file_and_field(tmp_path: Path) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text("request_usd_per_million = -1\n")
    result = CliRunner().invoke(
        app, ["tune", "cpu_python", "--manifest", str(SAMPLES), "--prices", str(prices)]
    )
    assert result.exit_code == 2
    assert result.stderr == (
        f"lambda-emu: --prices: {prices}: key 'request_usd_per_million': "
        "must be a number >= 0, got -1\n"
    )


# --- pure parts ------------------------------------------------------------------------------


def test_trimmed_mean_drops_a_share_at_each_end() -> None:
    assert tuning.trimmed_mean([1, 2, 3, 4, 100], 0.2) == 3.0
    assert tuning.trimmed_mean([1, 2, 3, 4, 100], 0.0) == 22.0
    assert tuning.trimmed_mean([5.0], 0.4) == 5.0
    assert tuning.trimmed_mean([1, 9], 0.4) == 5.0


def test_percentile_interpolates() -> None:
    assert tuning.percentile([1, 2, 3, 4], 50) == 2.5
    assert tuning.percentile(list(range(1, 101)), 95) == pytest.approx(95.05)


def test_weighted_payloads_keep_their_proportions_interleaved() -> None:
    choices = tuning.payload_choices(
        '[{"weight": 3, "payload": {"a": 1}}, {"weight": 1, "payload": {"b": 2}}]'
    )
    sequence = tuning.payload_sequence(choices, 8)
    assert sequence.count(b'{"a": 1}') == 6 and sequence.count(b'{"b": 2}') == 2
    assert sequence[:4].count(b'{"b": 2}') == 1
    # A list that is not weighted payloads is one payload.
    assert tuning.payload_choices("[1, 2]") == (tuning.WeightedPayload(1.0, b"[1, 2]"),)


# --- modes -----------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("parallel", [False, True], ids=["serial", "parallel"])
def test_only_cold_starts_and_parallel_start_every_invocation_cold(
    tmp_path: Path, parallel: bool
) -> None:
    # Serial: INIT billed as before 2025-08-01, free for a ZIP on a managed runtime.
    workload = tuning.Workload(
        invocations=3,
        parallel=parallel,
        only_cold_starts=not parallel,
        architecture="arm64",
        bill_init=parallel,
    )
    (m,) = tuning.measure(
        [tuning.sized_function(sample("hello_python"), 128, "arm64")],
        workload,
        state_dir=tmp_path,
    )
    assert (m.invocations, m.errors, m.cold_starts) == (3, 0, 3)
    assert m.architecture == "arm64"
    assert m.avg_init_ms is not None
    if parallel:
        assert m.avg_billed_ms > m.avg_ms + 1
    else:
        assert m.avg_billed_ms <= m.avg_ms + 1
    expected = cost.cost(1, m.avg_billed_ms, 128, architecture="arm64")
    assert m.cost_per_invocation_usd == pytest.approx(expected.total_usd)


@pytest.mark.slow
def test_tune_as_a_subprocess(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "emulator.cli",
            "tune",
            "hello_python",
            "--manifest",
            str(SAMPLES),
            "--memory",
            "128",
            "-n",
            "1",
            "--out",
            str(tmp_path / "out"),
            "--state-dir",
            str(tmp_path / "state"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "recommended (cost): 128 MB" in done.stdout
    assert (tmp_path / "out" / "tune.html").is_file()
