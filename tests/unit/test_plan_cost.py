"""Plans computed by hand, asserted to the cent with the shipped us-east-1 prices.

us-east-1: shard-hour $0.015, PUT payload units $0.014 per million, on-demand $0.04 per
stream-hour, $0.08 per GB in and $0.04 per GB out, Lambda arm64 $0.0000133334 per GB-s,
requests $0.20 per million; a month is 730 hours (2,628,000 s), a GB 2^30 bytes.
"""

from __future__ import annotations

from decimal import Decimal

from attak_cdk.plan.load import shards_needed


def test_one_shard_holds_exactly_1000_records_of_1_kb() -> None:
    at_limit = shards_needed(Decimal(1000), Decimal(1000 * 1024))
    assert (at_limit.shards, at_limit.limit) == (1, "write records/s")
    assert shards_needed(Decimal(1001), Decimal(1001 * 1024)).shards == 2
    assert shards_needed(Decimal(1000), Decimal(1024**2 + 1)).limit == "write MB/s"
    assert shards_needed(Decimal(0), Decimal(0)).limit == "minimum"
    # The consumer must keep up too: 3 handler-seconds per second over 2 batches per shard.
    slow = shards_needed(Decimal(100), Decimal(100), Decimal(3), parallelization_factor=2)
    assert (slow.shards, slow.limit) == (2, "consumer time")
