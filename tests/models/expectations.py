"""Expected mart values derived from the sandbox ground truth (sandbox.ground_truth)."""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
MICRO = Decimal("0.000001")


def seed_usd_per_unit() -> dict[str, Decimal]:
    """The FX seed (one dated rate per currency in the shipped file)."""
    with open(REPO_ROOT / "dbt" / "seeds" / "fx_rates.csv", newline="") as fh:
        return {row["currency"]: Decimal(row["usd_per_unit"]) for row in csv.DictReader(fh)}


def expected_installs(world, clock: dt.datetime | None = None) -> dict[tuple[str, str, dt.date], int]:
    from sandbox import ground_truth

    t = ground_truth.attributed_installs(world, clock)
    return {
        (r["advertiser_id"], r["ad_id"], r["install_date"]): int(r["installs"]) for r in t.to_pylist() if r["installs"]
    }


def expected_revenue(world, clock: dt.datetime | None = None):
    """(advertiser_id, ad_id, day) -> (revenue in the advertiser currency, events without an FX rate)."""
    from sandbox import ground_truth

    rates = seed_usd_per_unit()
    adv_currency = dict(
        zip(
            world.table("advertisers").column("advertiser_id").to_pylist(),
            world.table("advertisers").column("currency").to_pylist(),
        )
    )
    revenue: dict = defaultdict(lambda: Decimal(0))
    no_rate: dict = defaultdict(int)
    for r in ground_truth.attributed_revenue(world, clock).to_pylist():
        key = (r["advertiser_id"], r["ad_id"], r["event_date"])
        cur, adv_cur = r["currency"], adv_currency[r["advertiser_id"]]
        if cur == adv_cur:
            revenue[key] += Decimal(r["revenue"])
        elif cur in rates and adv_cur in rates:
            revenue[key] += (Decimal(r["revenue"]) * rates[cur] / rates[adv_cur]).quantize(MICRO, ROUND_HALF_EVEN)
        else:
            revenue[key] += 0
            no_rate[key] += int(r["revenue_events"])
    return {k: (revenue[k].quantize(MICRO), no_rate.get(k, 0)) for k in revenue}
