"""The cost model against hand-computed cases (docs/cost-model.md works the same ones)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emulator import cost
from emulator.cost import DEFAULT_PRICES, PriceFileError, load_prices

MONTH = 730 * 3600


def test_the_issue_case_x86_64() -> None:
    # 1,000,000 × 120 ms × 512 MB = 60,000 GB-s at $0.0000166667 + 1M requests at $0.20/1M.
    bill = cost.cost(1_000_000, 120, 512)
    assert bill.gb_s == pytest.approx(60_000)
    assert bill.duration_usd == pytest.approx(1.00, abs=0.005)
    assert bill.duration_usd == pytest.approx(60_000 * 0.0000166667)
    assert bill.request_usd == pytest.approx(0.20)
    assert bill.total_usd == pytest.approx(1.20, abs=0.005)
    assert cost.cost_per_million(512, 120).total_usd == pytest.approx(bill.total_usd)


def test_arm64_is_a_fifth_cheaper_per_gb_second() -> None:
    bill = cost.cost(1_000_000, 120, 512, architecture="arm64")
    assert bill.duration_usd == pytest.approx(60_000 * 0.0000133334)  # $0.80
    assert bill.duration_usd == pytest.approx(0.80, abs=0.005)
    assert bill.request_usd == pytest.approx(0.20)


def test_init_billing_of_a_cold_start() -> None:
    # LAMBDA_SPEC §5: Init 1293.83 ms + Duration 1049.63 ms bill 2344 ms; before 2025-08-01 a
    # ZIP function on a managed runtime billed 1050 ms.
    assert cost.billed_ms(1049.63, 1293.83) == 2344
    assert cost.billed_ms(1049.63, 1293.83, bill_init=False) == 1050
    billed = cost.invocation_cost(1024, 1049.63, init_ms=1293.83)
    assert billed.duration_usd == pytest.approx(2.344 * 0.0000166667)  # $0.0000390667
    assert billed.request_usd == pytest.approx(0.0000002)
    old = cost.invocation_cost(1024, 1049.63, init_ms=1293.83, bill_init=False)
    assert old.duration_usd == pytest.approx(1.050 * 0.0000166667)  # $0.0000175000
    warm = cost.invocation_cost(1024, 1049.63)
    assert warm.duration_usd == old.duration_usd


def test_before_2025_08_01_only_custom_runtimes_and_images_billed_init() -> None:
    assert cost.init_is_billed("python3.12")
    assert not cost.init_is_billed("python3.12", standard=False)
    assert cost.init_is_billed("provided.al2023", standard=False)
    assert cost.init_is_billed("", "Image", standard=False)


def test_billed_duration_rounds_up_to_one_millisecond() -> None:
    assert cost.billed_ms(0.01) == 1
    assert cost.billed_ms(120.0) == 120
    assert cost.billed_ms(120.001) == 121
    assert cost.gb_seconds(1000, 1024) == 1.0


def test_a_month_of_provisioned_concurrency() -> None:
    # 10 environments of 1,024 MB for 730 h: 26,280,000 GB-s allocated at $0.0000041667;
    # 10 req/s × 100 ms keeps one busy, so every invocation is provisioned: 26,280,000
    # invocations × 0.1 GB-s at the PC duration rate $0.0000097222, plus requests.
    bill = cost.monthly_cost(1024, 100, 10, provisioned_concurrency=10)
    assert bill.invocations == pytest.approx(26_280_000)
    assert bill.provisioned_usd == pytest.approx(26_280_000 * 0.0000041667)  # $109.50
    assert bill.provisioned_duration_usd == pytest.approx(2_628_000 * 0.0000097222)  # $25.55
    assert bill.duration_usd == 0.0
    assert bill.request_usd == pytest.approx(5.256)
    assert bill.total_usd == pytest.approx(140.31, abs=0.01)


def test_provisioned_invocations_are_warm_and_the_rest_spill_over() -> None:
    # 100 req/s × 100 ms keeps 10 busy; 5 provisioned take half, the rest run on demand and
    # a tenth of those start cold, billing 500 ms of INIT.
    bill = cost.monthly_cost(
        1024, 100, 100, init_ms=500, cold_start_ratio=0.1, provisioned_concurrency=5
    )
    half = 100 * MONTH / 2
    assert bill.invocations == pytest.approx(2 * half)
    assert bill.provisioned_duration_usd == pytest.approx(half * 0.1 * 0.0000097222)
    on_demand_ms = 0.9 * 100 + 0.1 * 600
    assert bill.duration_usd == pytest.approx(half * on_demand_ms / 1000 * 0.0000166667)


def test_a_month_on_demand_matches_the_per_invocation_price() -> None:
    bill = cost.monthly_cost(512, 120, 10)
    assert bill.invocations == pytest.approx(26_280_000)
    assert bill.duration_usd == pytest.approx(26.28 * 1.0, rel=1e-5)  # 26.28M × $1.00/1M
    assert bill.request_usd == pytest.approx(5.256)


def test_ephemeral_storage_above_512_mb() -> None:
    # 10,240 MB of /tmp: 9.5 GB above the free 512 MB, for 1M × 120 ms.
    bill = cost.cost(1_000_000, 120, 512, ephemeral_mb=10_240)
    assert bill.ephemeral_usd == pytest.approx(120_000 * 9.5 * 0.0000000309)
    assert cost.cost(1_000_000, 120, 512).ephemeral_usd == 0.0


def test_free_tier() -> None:
    inside = cost.cost(1_000_000, 120, 512, free_tier=True)
    assert inside.total_usd == 0.0
    # 2M × 400 ms × 1024 MB = 800,000 GB-s: half of it and half of the requests are free.
    beyond = cost.cost(2_000_000, 400, 1024, free_tier=True)
    assert beyond.duration_usd == pytest.approx(400_000 * 0.0000166667)
    assert beyond.request_usd == pytest.approx(0.20)
    # No free tier for functions with provisioned concurrency.
    pc = cost.monthly_cost(1024, 100, 1, provisioned_concurrency=1, free_tier=True)
    assert pc.request_usd == pytest.approx(2_628_000 * 0.20 / 1e6)


def test_monthly_duration_tiers() -> None:
    x86 = DEFAULT_PRICES.duration_tiers("x86_64")
    assert cost.tiered_usd(7e9, x86) == pytest.approx(6e9 * 0.0000166667 + 1e9 * 0.000015)
    assert cost.tiered_usd(1e9, x86, already_gb_s=15e9) == pytest.approx(1e9 * 0.0000133334)


def test_a_price_file_overrides_what_it_names(tmp_path: Path) -> None:
    path = tmp_path / "prices.toml"
    path.write_text(
        'as_of = "2027-01-01"\nrequest_usd_per_million = 0.25\n'
        "duration_x86_64 = [{usd_per_gb_s = 0.00002}]\n"
    )
    prices = load_prices(path)
    assert prices.as_of == "2027-01-01"
    assert "prices.toml" in prices.source
    assert prices.duration_arm64 == DEFAULT_PRICES.duration_arm64
    bill = cost.cost(1_000_000, 120, 512, prices=prices)
    assert bill.duration_usd == pytest.approx(60_000 * 0.00002)
    assert bill.request_usd == pytest.approx(0.25)

    as_json = tmp_path / "prices.json"
    as_json.write_text(json.dumps({"free_tier_gb_s": 0, "source": "my contract"}))
    prices = load_prices(as_json)
    assert prices.free_tier_gb_s == 0.0
    assert prices.source == "my contract"


@pytest.mark.parametrize(
    ("text", "field", "says"),
    [
        ("request_usd_per_milion = 0.2\n", "request_usd_per_milion", "request_usd_per_million"),
        ('request_usd_per_million = "cheap"\n', "request_usd_per_million", "number"),
        ("ephemeral_included_mb = 1.5\n", "ephemeral_included_mb", "whole number"),
        (
            "duration_arm64 = [{usd_per_gb_s = 1e-5, up_to_gb_s = 10}, {usd_per_gb_s = 1e-5}, "
            "{usd_per_gb_s = 1e-5, up_to_gb_s = 5}]\n",
            "duration_arm64",
            "tier 2 needs up_to_gb_s",
        ),
    ],
)
def test_a_broken_price_file_is_one_line_naming_file_and_field(
    tmp_path: Path, text: str, field: str, says: str
) -> None:
    path = tmp_path / "prices.toml"
    path.write_text(text)
    with pytest.raises(PriceFileError) as caught:
        load_prices(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: key '{field}':")
    assert says in message


def test_a_price_file_that_does_not_parse(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text('{"request_usd_per_million": }')
    with pytest.raises(PriceFileError, match=r"prices\.json: is not valid JSON") as caught:
        load_prices(path)
    assert "\n" not in str(caught.value)
    with pytest.raises(PriceFileError, match="no such file"):
        load_prices(tmp_path / "missing.toml")
