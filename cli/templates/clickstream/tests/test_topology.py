"""Tests of the clickstream pipeline: run in-process as `attak simulate` runs it (no AWS)."""

from datetime import UTC, datetime
from pathlib import Path

from attak_cdk.testing import invoke, run_topology

HERE = Path(__file__).resolve().parent.parent  # the folder of topology.yml
NOON = int(datetime(2026, 12, 1, 12, 0, tzinfo=UTC).timestamp()) // 60


def test_closed_minutes_are_counted_alerted_on_and_archived():
    result = run_topology(HERE, "input.jsonl")
    result.assert_ok()
    minutes = result.emitted["aggregate"]["page_minute"]
    # The bot's view (Googlebot) is not counted; the purchase's revenue is.
    assert {"category": "shoes", "minute": NOON, "views": 3, "revenue": 59.9} in minutes
    archived = [item["key"] for item in result.emitted["archive"]["archived"]]
    assert f"page-minutes/shoes/{NOON}.json" in archived


def test_bots_and_inhumanly_fast_clicks_are_dropped():
    click = {"user": "u9", "ms": 1_000, "agent": "Mozilla/5.0"}
    assert invoke(HERE, "filter_bots", {**click, "agent": "AhrefsBot/7.0"}) == {}
    assert invoke(HERE, "filter_bots", dict(click)) == {"human": [{"user": "u9", "ms": 1_000}]}


def test_a_jump_in_views_raises_an_alert():
    # A category of its own: handlers' module state (the running averages) lasts as long
    # as the test process, as it lasts as long as a Lambda container.
    def minute(views):
        return {"category": "toys", "minute": NOON, "views": views, "revenue": 0.0}

    result = run_topology(HERE, [("alert", minute(views)) for views in (10, 11, 90)])
    assert result.emitted["alert"]["alert"] == [{"category": "toys", "minute": NOON, "views": 90}]


def test_the_canary_goes_down_the_whole_path():
    result = run_topology(HERE, [], schedule_ticks=1)  # its schedule fired once, no input
    result.assert_ok()
    [click] = result.emitted["filter_bots"]["human"]
    assert (click["user"], click["category"]) == ("canary", "canary")
    assert result.summary["aggregate"]["invocations"] == 1
