"""Reading rates, sizes, durations and ratios: what users write, and what they get told."""

from __future__ import annotations

from decimal import Decimal

import pytest

from attak_cdk.plan.quantities import (
    PlanError,
    format_size,
    parse_duration,
    parse_emits,
    parse_fraction,
    parse_rate,
    parse_size,
)


@pytest.mark.parametrize(
    ("text", "per_second", "in_bytes"),
    [
        ("1000/s", Decimal(1000), False),
        ("1000", Decimal(1000), False),
        (1000, Decimal(1000), False),
        ("60 events/min", Decimal(1), False),
        ("3,600 records/h", Decimal(1), False),
        ("5 MB/s", Decimal(5 * 1024**2), True),
        ("1 TB/day", Decimal(1024**4) / 86400, True),
        ("0/s", Decimal(0), False),
    ],
)
def test_rates_in_the_forms_users_write(text: object, per_second: Decimal, in_bytes: bool) -> None:
    rate = parse_rate(text)
    assert (rate.per_second, rate.in_bytes) == (per_second, in_bytes)


def test_a_data_rate_becomes_events_through_the_event_size() -> None:
    assert parse_rate("1 MB/s").events_per_second(Decimal(1024)) == 1024


@pytest.mark.parametrize("text", ["fast", "-1", "10 GB/parsec", "", "1 lb/s", True, None, [1]])
def test_a_bad_rate_says_what_was_given_and_what_is_allowed(text: object) -> None:
    with pytest.raises(PlanError) as caught:
        parse_rate(text, "--rate")
    message = caught.value.message
    assert message.startswith("--rate must be events per second")
    assert f"(given {text!r})" in message or f"(given {text})" in message
    assert "1 TB/day" in message  # an example of what works


def test_a_unit_of_time_attak_does_not_know_is_named() -> None:
    with pytest.raises(PlanError, match=r"write the time unit as /s, /min, /h or /day"):
        parse_rate("10 GB/parsec")


@pytest.mark.parametrize(
    ("text", "size"), [("1 KB", 1024), ("512", 512), ("1.5 kb", 1536), ("1 MB", 1024**2)]
)
def test_sizes_are_binary_like_aws_limits(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["-1", "0", "big", "1 parsec", "2 MB"])
def test_a_bad_size_is_refused_with_the_limit(text: str) -> None:
    with pytest.raises(PlanError, match=r"at most 1 MB \(given"):
        parse_size(text, "--size")


def test_a_size_over_a_kinesis_record_says_how_to_fix_it() -> None:
    with pytest.raises(PlanError, match="send a reference"):
        parse_size("2 MB")


def test_durations_ratios_and_shares() -> None:
    assert parse_duration("20 ms") == Decimal("0.020")
    assert parse_duration("1.5 s") == Decimal("1.5")
    assert parse_duration(5) == Decimal("0.005")  # a bare number is milliseconds
    assert parse_emits("0.5") == Decimal("0.5")
    assert parse_fraction("0.1%") == Decimal("0.001")
    for bad in ("forever", "901 s", "-3 ms"):
        with pytest.raises(PlanError, match="duration"):
            parse_duration(bad)
    for bad in ("-1", "lots", "nan"):
        with pytest.raises(PlanError, match="records emitted per event"):
            parse_emits(bad)
    with pytest.raises(PlanError, match="share of records"):
        parse_fraction("150%")


def test_sizes_read_back_for_people() -> None:
    assert format_size(Decimal(1024)) == "1 KB"
    assert format_size(Decimal(300)) == "300 B"
    assert format_size(Decimal(1024**4)) == "1 TB"
