"""Lambda's price model (LAMBDA_SPEC §6): what an invocation, a million of them, or a month of
traffic would cost on AWS, from the durations the emulator reports.

    billed ms    = ceil(Duration [+ Init Duration when INIT is billed])  (1 ms granularity)
    GB-s         = billed ms / 1000 × memory MB / 1024  (a GB is 1,024 MB)
    duration $   = GB-s priced through the architecture's monthly tiers
    request $    = invocations × $0.20 / 1M
    ephemeral $  = GB-s of /tmp above the free 512 MB × its rate
    provisioned  = allocated GB-s × PC rate + GB-s while invoked × the reduced PC duration rate
                   (allocated time rounded up to the nearest 5 minutes, as AWS bills it)

Every price lives in one frozen `PriceTable` with its `as_of` date and `source`;
`load_prices(path)` overrides it from a JSON or TOML file. Prices are us-east-1 list prices;
fields marked ⚠ in `PriceTable.unverified` could not be confirmed on aws.amazon.com.

Pure and import-light: `lambda-emu tune`, `compare`, the load harness and the offline model use
it, and it prices real Lambda's REPORT lines as well as the emulator's. The public API (stable;
amounts in USD, unrounded; every function takes `prices=` and `architecture=`):

    billed_ms(duration_ms, init_ms=None, *, bill_init=True) -> int     one invocation's ms
    init_is_billed(runtime, package_type="Zip", *, standard=True) -> bool   the bill_init to use
    gb_seconds(billed_ms, memory_mb) -> float
    cost(invocations, billed_ms_each, memory_mb, ...) -> CostBreakdown   the general case
    invocation_cost(memory_mb, duration_ms, *, init_ms, bill_init, provisioned) -> CostBreakdown
    cost_per_million(memory_mb, billed_ms_each, ...) -> CostBreakdown
    monthly_cost(memory_mb, duration_ms, requests_per_s, *, init_ms, cold_start_ratio,
                 provisioned_concurrency, free_tier, ...) -> CostBreakdown
    tiered_usd(gb_s, tiers, *, already_gb_s=0) -> float
    provisioned_billed_s(seconds) -> float          configured time, rounded up to 5 minutes
    load_prices(path, base=DEFAULT_PRICES) -> PriceTable                raises PriceFileError
    CostBreakdown: request_usd, duration_usd, provisioned_usd, provisioned_duration_usd,
                   ephemeral_usd, compute_usd, total_usd, gb_s; `a + b` adds two parts of a bill
    PriceTable, PriceTier, DEFAULT_PRICES, INIT_BILLED_SINCE, SECONDS_PER_MONTH, MB_PER_GB,
    PROVISIONED_BILLING_INCREMENT_S

docs/cost-model.md has the formulas and worked cases.
"""

from __future__ import annotations

import difflib
import json
import math
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from emulator.config import Architecture
from emulator.errors import LambdaEmuError
from emulator.metrics.report import billed_duration_ms

MB_PER_GB = 1024  # Lambda prices memory in GiB: 1,024 MB is 1 GB-second per second
REQUESTS_PER_PRICE_UNIT = 1_000_000
# The AWS Pricing Calculator's month: 730 hours.
SECONDS_PER_MONTH = 730 * 3600
# The date INIT became billed for on-demand ZIP functions on managed runtimes (LAMBDA_SPEC §6).
INIT_BILLED_SINCE = "2025-08-01"
# AWS's pricing page (aws.amazon.com/lambda/pricing, "Provisioned Concurrency Pricing"):
# "Provisioned Concurrency is calculated from the time you enable it on your function until it
# is disabled, rounded up to the nearest 5 minutes." Duration, by contrast, rounds up to 1 ms.
PROVISIONED_BILLING_INCREMENT_S = 300


class PriceFileError(LambdaEmuError):
    """A price override file that cannot be used. `str()` is the one-line CLI message."""

    def __init__(self, path: Path | str, message: str, *, key: str | None = None) -> None:
        self.path = Path(path)
        self.key = key
        where = f"{self.path}: key '{key}'" if key is not None else str(self.path)
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True, slots=True)
class PriceTier:
    """One step of the monthly duration tiers: `usd_per_gb_s` until the month's GB-s (summed
    over the architecture, region and account) reach `up_to_gb_s`; None for the last tier."""

    usd_per_gb_s: float
    up_to_gb_s: float | None = None


@dataclass(frozen=True)
class PriceTable:
    """Every price the model uses, in one place."""

    as_of: str
    source: str
    region: str
    request_usd_per_million: float
    duration_x86_64: tuple[PriceTier, ...]
    duration_arm64: tuple[PriceTier, ...]
    provisioned_x86_64_usd_per_gb_s: float  # allocated concurrency, whether invoked or not
    provisioned_duration_x86_64_usd_per_gb_s: float  # duration on a provisioned environment
    provisioned_arm64_usd_per_gb_s: float
    provisioned_duration_arm64_usd_per_gb_s: float
    ephemeral_usd_per_gb_s: float
    ephemeral_included_mb: int
    free_tier_requests: int
    free_tier_gb_s: float
    unverified: tuple[str, ...] = ()  # field names whose figure is not confirmed (⚠)

    def duration_tiers(self, architecture: Architecture) -> tuple[PriceTier, ...]:
        return self.duration_arm64 if architecture == "arm64" else self.duration_x86_64

    def duration_usd_per_gb_s(self, architecture: Architecture) -> float:
        """The first tier: the marginal price of one more GB-s for most accounts."""
        return self.duration_tiers(architecture)[0].usd_per_gb_s

    def provisioned_usd_per_gb_s(self, architecture: Architecture) -> tuple[float, float]:
        """(allocated, duration) rates of provisioned concurrency."""
        if architecture == "arm64":
            return (
                self.provisioned_arm64_usd_per_gb_s,
                self.provisioned_duration_arm64_usd_per_gb_s,
            )
        return (
            self.provisioned_x86_64_usd_per_gb_s,
            self.provisioned_duration_x86_64_usd_per_gb_s,
        )


DEFAULT_PRICES = PriceTable(
    as_of="2026-11-22",
    source=(
        "us-east-1 list prices: aws.amazon.com/lambda/pricing (requests, duration, free tier); "
        "AWS Compute Blog 'Introducing tiered pricing for AWS Lambda' (2022, tiers); "
        "provisioned concurrency and ephemeral storage rates not readable on the pricing page "
        "(rendered client-side): x86_64 PC rates and the arm64 PC allocated rate as quoted by "
        "awsnegotiations.com (third party), the rest unconfirmed (see `unverified`)"
    ),
    region="us-east-1",
    request_usd_per_million=0.20,
    duration_x86_64=(
        PriceTier(0.0000166667, 6e9),
        PriceTier(0.000015, 15e9),
        PriceTier(0.0000133334),
    ),
    duration_arm64=(
        PriceTier(0.0000133334, 7.5e9),
        PriceTier(0.0000120001, 18.75e9),
        PriceTier(0.0000106667),
    ),
    provisioned_x86_64_usd_per_gb_s=0.0000041667,
    provisioned_duration_x86_64_usd_per_gb_s=0.0000097222,
    provisioned_arm64_usd_per_gb_s=0.0000033334,
    provisioned_duration_arm64_usd_per_gb_s=0.0000077778,
    ephemeral_usd_per_gb_s=0.0000000309,
    ephemeral_included_mb=512,
    free_tier_requests=1_000_000,
    free_tier_gb_s=400_000.0,
    unverified=(
        "duration_arm64",  # the > 18.75B GB-s tier only
        "provisioned_x86_64_usd_per_gb_s",
        "provisioned_duration_x86_64_usd_per_gb_s",
        "provisioned_arm64_usd_per_gb_s",
        "provisioned_duration_arm64_usd_per_gb_s",
        "ephemeral_usd_per_gb_s",
    ),
)


@dataclass(frozen=True, slots=True)
class CostBreakdown:
    """What a number of invocations cost, by line of the bill (USD, unrounded)."""

    invocations: float
    billed_ms: float  # per invocation, average
    gb_s: float  # duration GB-s, on-demand and provisioned, before the free tier
    request_usd: float
    duration_usd: float  # on-demand duration, after the free tier
    provisioned_usd: float  # allocated provisioned concurrency
    provisioned_duration_usd: float  # duration on provisioned environments
    ephemeral_usd: float

    @property
    def compute_usd(self) -> float:
        """Everything but the request fee."""
        return (
            self.duration_usd
            + self.provisioned_usd
            + self.provisioned_duration_usd
            + self.ephemeral_usd
        )

    @property
    def total_usd(self) -> float:
        return self.request_usd + self.compute_usd

    def __add__(self, other: CostBreakdown) -> CostBreakdown:
        """Two parts of one bill (say, on-demand and provisioned invocations) as one."""
        invocations = self.invocations + other.invocations
        billed = (
            (self.invocations * self.billed_ms + other.invocations * other.billed_ms) / invocations
            if invocations
            else 0.0
        )
        return CostBreakdown(
            invocations=invocations,
            billed_ms=billed,
            gb_s=self.gb_s + other.gb_s,
            request_usd=self.request_usd + other.request_usd,
            duration_usd=self.duration_usd + other.duration_usd,
            provisioned_usd=self.provisioned_usd + other.provisioned_usd,
            provisioned_duration_usd=self.provisioned_duration_usd + other.provisioned_duration_usd,
            ephemeral_usd=self.ephemeral_usd + other.ephemeral_usd,
        )


def gb_seconds(billed_ms: float, memory_mb: int) -> float:
    return billed_ms / 1000.0 * memory_mb / MB_PER_GB


def billed_ms(duration_ms: float, init_ms: float | None = None, *, bill_init: bool = True) -> int:
    """Lambda rounds up to 1 ms; with `bill_init` (on-demand since 2025-08-01) a cold start
    bills its Init Duration too. `bill_init=False` is the older behaviour for managed
    runtimes on ZIP packages."""
    return billed_duration_ms(duration_ms, init_ms, bill_init=bill_init)


def init_is_billed(runtime: str, package_type: str = "Zip", *, standard: bool = True) -> bool:
    """Whether a cold start of an on-demand function bills its INIT phase. Since 2025-08-01
    (`standard`) every one does; before, only custom runtimes (`provided.*`) and container
    images did, while ZIP packages on managed runtimes had INIT for free."""
    return standard or package_type == "Image" or runtime.startswith("provided")


def tiered_usd(gb_s: float, tiers: tuple[PriceTier, ...], *, already_gb_s: float = 0.0) -> float:
    """Price `gb_s` through the tiers, `already_gb_s` having been used earlier in the month."""
    usd = 0.0
    position = already_gb_s
    end = already_gb_s + gb_s
    for tier in tiers:
        upper = math.inf if tier.up_to_gb_s is None else tier.up_to_gb_s
        if position >= end:
            break
        if position < upper:
            here = min(end, upper) - position
            usd += here * tier.usd_per_gb_s
            position += here
    return usd


def cost(
    invocations: float,
    billed_ms_each: float,
    memory_mb: int,
    *,
    architecture: Architecture = "x86_64",
    ephemeral_mb: int = 512,
    provisioned_share: float = 0.0,
    provisioned_allocated_gb_s: float = 0.0,
    free_tier: bool = False,
    prices: PriceTable = DEFAULT_PRICES,
) -> CostBreakdown:
    """The bill for `invocations` of `billed_ms_each` (already rounded per invocation).

    `provisioned_share` of the invocations run on provisioned environments (reduced duration
    rate, no tiers); `provisioned_allocated_gb_s` is the configured concurrency's GB-s. The free
    tier is applied only when `free_tier` and no concurrency is provisioned, as on AWS.
    """
    if not 0.0 <= provisioned_share <= 1.0:
        raise ValueError(f"provisioned_share must be from 0 to 1, got {provisioned_share}")
    gb_s = invocations * gb_seconds(billed_ms_each, memory_mb)
    pc_rate, pc_duration_rate = prices.provisioned_usd_per_gb_s(architecture)
    on_demand_gb_s = gb_s * (1.0 - provisioned_share)
    billed_requests = invocations
    use_free_tier = free_tier and provisioned_allocated_gb_s == 0.0
    if use_free_tier:
        on_demand_gb_s = max(0.0, on_demand_gb_s - prices.free_tier_gb_s)
        billed_requests = max(0.0, invocations - prices.free_tier_requests)
    extra_storage_gb = max(0, ephemeral_mb - prices.ephemeral_included_mb) / MB_PER_GB
    return CostBreakdown(
        invocations=invocations,
        billed_ms=billed_ms_each,
        gb_s=gb_s,
        request_usd=billed_requests * prices.request_usd_per_million / REQUESTS_PER_PRICE_UNIT,
        duration_usd=tiered_usd(on_demand_gb_s, prices.duration_tiers(architecture)),
        provisioned_usd=provisioned_allocated_gb_s * pc_rate,
        provisioned_duration_usd=gb_s * provisioned_share * pc_duration_rate,
        ephemeral_usd=invocations
        * (billed_ms_each / 1000.0)
        * extra_storage_gb
        * prices.ephemeral_usd_per_gb_s,
    )


def invocation_cost(
    memory_mb: int,
    duration_ms: float,
    *,
    init_ms: float | None = None,
    bill_init: bool = True,
    architecture: Architecture = "x86_64",
    ephemeral_mb: int = 512,
    provisioned: bool = False,
    prices: PriceTable = DEFAULT_PRICES,
) -> CostBreakdown:
    """One invocation at the first tier, request fee included, no free tier. `init_ms`: its
    Init Duration if it was a cold start; `provisioned`: it ran on a provisioned environment
    (the allocation itself is a monthly cost, see `monthly_cost`)."""
    return cost(
        1,
        billed_ms(duration_ms, init_ms, bill_init=bill_init),
        memory_mb,
        architecture=architecture,
        ephemeral_mb=ephemeral_mb,
        provisioned_share=1.0 if provisioned else 0.0,
        prices=prices,
    )


def cost_per_million(
    memory_mb: int,
    billed_ms_each: float,
    *,
    architecture: Architecture = "x86_64",
    ephemeral_mb: int = 512,
    provisioned: bool = False,
    free_tier: bool = False,
    prices: PriceTable = DEFAULT_PRICES,
) -> CostBreakdown:
    """1,000,000 invocations of `billed_ms_each` (the average billed duration), requests
    included."""
    return cost(
        REQUESTS_PER_PRICE_UNIT,
        billed_ms_each,
        memory_mb,
        architecture=architecture,
        ephemeral_mb=ephemeral_mb,
        provisioned_share=1.0 if provisioned else 0.0,
        free_tier=free_tier,
        prices=prices,
    )


def provisioned_billed_s(seconds: float) -> float:
    """The time provisioned concurrency configured for `seconds` is billed for: rounded up to
    the nearest 5 minutes (a 61-second period bills 300 s; 730 hours bill exactly 730 hours)."""
    if seconds <= 0:
        return 0.0
    step = PROVISIONED_BILLING_INCREMENT_S
    return float(math.ceil(seconds / step - 1e-9) * step)


def monthly_cost(
    memory_mb: int,
    duration_ms: float,
    requests_per_s: float,
    *,
    init_ms: float | None = None,
    cold_start_ratio: float = 0.0,
    bill_init: bool = True,
    architecture: Architecture = "x86_64",
    ephemeral_mb: int = 512,
    provisioned_concurrency: int = 0,
    free_tier: bool = False,
    seconds: float = SECONDS_PER_MONTH,
    prices: PriceTable = DEFAULT_PRICES,
) -> CostBreakdown:
    """A month of steady traffic at `requests_per_s`.

    `cold_start_ratio` of the on-demand invocations are cold and, with `bill_init`, bill
    `init_ms` too. With `provisioned_concurrency`, that many environments are allocated for
    `seconds` (billed by the 5 minutes: `provisioned_billed_s`); by Little's law the traffic
    keeps `requests_per_s × duration` environments busy, and the share beyond the provisioned
    ones spills over to on-demand environments. Provisioned
    environments initialise before they are invoked, so their invocations are warm: their INIT
    is part of the allocation charge.
    """
    if not 0.0 <= cold_start_ratio <= 1.0:
        raise ValueError(f"cold_start_ratio must be from 0 to 1, got {cold_start_ratio}")
    warm = billed_ms(duration_ms, bill_init=bill_init)
    cold = billed_ms(duration_ms, init_ms, bill_init=bill_init)
    on_demand_each = (1.0 - cold_start_ratio) * warm + cold_start_ratio * cold
    invocations = requests_per_s * seconds
    busy = requests_per_s * duration_ms / 1000.0
    share = 0.0
    if provisioned_concurrency > 0:
        share = 1.0 if busy <= provisioned_concurrency else provisioned_concurrency / busy
    common: dict[str, Any] = {
        "architecture": architecture,
        "ephemeral_mb": ephemeral_mb,
        "prices": prices,
    }
    on_demand = cost(
        invocations * (1.0 - share),
        on_demand_each,
        memory_mb,
        free_tier=free_tier and provisioned_concurrency == 0,
        **common,
    )
    if provisioned_concurrency == 0:
        return on_demand
    allocated = provisioned_concurrency * (memory_mb / MB_PER_GB) * provisioned_billed_s(seconds)
    provisioned = cost(
        invocations * share,
        warm,
        memory_mb,
        provisioned_share=1.0,
        provisioned_allocated_gb_s=allocated,
        **common,
    )
    return on_demand + provisioned


# --- overrides -------------------------------------------------------------------------------

_TIER_FIELDS = ("duration_x86_64", "duration_arm64")
_TEXT_FIELDS = ("as_of", "source", "region")
_INT_FIELDS = ("ephemeral_included_mb", "free_tier_requests")


def load_prices(path: Path, base: PriceTable = DEFAULT_PRICES) -> PriceTable:
    """`base` with the keys a JSON or TOML file sets (the field names of `PriceTable`).

    Tiers are lists of `{"usd_per_gb_s": p, "up_to_gb_s": g}`, the last without `up_to_gb_s`.
    A file that changes prices without saying `source` gets one naming the file.
    Raises `PriceFileError`.
    """
    data = _read_price_file(path)
    known = {f.name for f in fields(PriceTable)}
    changes: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise PriceFileError(path, f"is not a price field{hint}", key=key)
        changes[key] = _parse_field(path, key, value)
    if "source" not in changes:
        changes["source"] = f"{path.name} over the built-in table of {base.as_of}"
    if "unverified" not in changes:
        # A figure the file sets is the file's responsibility now.
        changes["unverified"] = tuple(name for name in base.unverified if name not in data)
    return replace(base, **changes)


def _read_price_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PriceFileError(path, "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PriceFileError(path, f"cannot read: {exc}") from None
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            data: object = tomllib.loads(text)
        elif suffix == ".json":
            data = json.loads(text)
        else:
            raise PriceFileError(path, f"expected a .json or .toml file, got '{path.name}'")
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise PriceFileError(path, f"is not valid {suffix[1:].upper()}: {exc}") from None
    if not isinstance(data, dict):
        raise PriceFileError(path, f"must be a table of price fields, got {type(data).__name__}")
    return data


def _number(path: Path, key: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise PriceFileError(path, f"must be a number >= 0, got {value!r}", key=key)
    return float(value)


def _parse_field(path: Path, key: str, value: object) -> object:
    if key in _TEXT_FIELDS:
        if not isinstance(value, str):
            raise PriceFileError(path, f"must be a string, got {value!r}", key=key)
        return value
    if key == "unverified":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise PriceFileError(path, f"must be a list of field names, got {value!r}", key=key)
        return tuple(value)
    if key in _TIER_FIELDS:
        return _parse_tiers(path, key, value)
    number = _number(path, key, value)
    if key in _INT_FIELDS:
        if number != int(number):
            raise PriceFileError(path, f"must be a whole number, got {value!r}", key=key)
        return int(number)
    return number


def _parse_tiers(path: Path, key: str, value: object) -> tuple[PriceTier, ...]:
    if not isinstance(value, list) or not value:
        raise PriceFileError(path, f"must be a non-empty list of tiers, got {value!r}", key=key)
    tiers: list[PriceTier] = []
    previous = 0.0
    for index, item in enumerate(value):
        last = index == len(value) - 1
        if not isinstance(item, dict) or "usd_per_gb_s" not in item:
            raise PriceFileError(
                path, f"tier {index + 1} must be a table with usd_per_gb_s, got {item!r}", key=key
            )
        extra = set(item) - {"usd_per_gb_s", "up_to_gb_s"}
        if extra:
            raise PriceFileError(
                path, f"tier {index + 1} has unknown keys {sorted(extra)}", key=key
            )
        price = _number(path, key, item["usd_per_gb_s"])
        bound = item.get("up_to_gb_s")
        if last and bound is not None:
            raise PriceFileError(path, "the last tier must not have up_to_gb_s", key=key)
        if not last:
            if bound is None:
                raise PriceFileError(
                    path, f"tier {index + 1} needs up_to_gb_s (only the last has none)", key=key
                )
            upper = _number(path, key, bound)
            if upper <= previous:
                raise PriceFileError(
                    path, f"tier bounds must increase, got {upper:g} after {previous:g}", key=key
                )
            previous = upper
            tiers.append(PriceTier(price, upper))
        else:
            tiers.append(PriceTier(price))
    return tuple(tiers)
