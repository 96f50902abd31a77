"""What Kinesis bills for a processor's emits: aggregated records against one per emit.

Two event sets, seeded: ~1 KB JSON clickstream events (users, sessions, pages, referrers,
user agents, timestamps, a few numbers) and ~100 B events. Each set is emitted through
the runtime, a ``Runner`` fed Lambda-sized batches whose handler emits every event keyed
by its user, into a local kinesalite stream of 4 shards, twice: with the runtime's
``KinesisEmitter`` (aggregated, compressed records, see ``runtime/records.py``) and with
a baseline transport that writes one record per emit (the envelope's bytes, PutRecords
of 500). Both runs are read back and counted. Printed for each, and their ratio: records,
bytes, PUT payload units, on-demand billed KB, PutRecords calls, and the runtime's CPU
per event to pack (``records_for``) and unpack (``aggregate.unpack`` + envelope decode),
measured with ``time.process_time`` over the whole set. Then zlib levels 1, 6 and 9 on
the 1 KB events' aggregates, and the log bytes per event.

    python bench/wire_efficiency.py [--events 100000] [--batch 500]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import json
import random
import time
import zlib
from collections.abc import Callable, Sequence
from typing import Any

from attak_cdk.runtime import aggregate
from attak_cdk.runtime.config import DEFAULT_TRACE_SAMPLING
from attak_cdk.runtime.context import Context, Emit, Routes
from attak_cdk.runtime.emitter import KinesisEmitter
from attak_cdk.runtime.envelope import decode, encode_input
from attak_cdk.runtime.handler import Record, Runner
from attak_cdk.runtime.logs import RecordLog, announced
from attak_cdk.runtime.records import OutgoingRecord, Tally, records_for
from attak_cdk.simulate import emulator
from attak_cdk.simulate.resources import connect

SHARDS = 4

# --- events --------------------------------------------------------------------------

USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.4.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
    "like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.6367.82 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.67",
    "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
]
REFERRERS = [
    "https://www.google.com/",
    "https://www.bing.com/search?q=trail+running+shoes",
    "https://duckduckgo.com/",
    "https://www.facebook.com/",
    "https://t.co/",
    "https://www.reddit.com/r/running/comments/",
    "https://news.ycombinator.com/",
    "",
]
CATEGORIES = ["shoes", "jackets", "backpacks", "tents", "watches", "socks", "gloves", "hats"]
EVENT_TYPES = ["page_view", "page_view", "page_view", "click", "add_to_cart", "search", "purchase"]
COUNTRIES = [
    ("US", "CA", "San Francisco"),
    ("US", "NY", "New York"),
    ("DE", "BE", "Berlin"),
    ("FR", "IDF", "Paris"),
    ("GB", "ENG", "London"),
    ("JP", "13", "Tokyo"),
    ("BR", "SP", "Sao Paulo"),
    ("IN", "KA", "Bengaluru"),
]
WORDS = [
    "light",
    "waterproof",
    "trail",
    "running",
    "shoe",
    "jacket",
    "merino",
    "wool",
    "insulated",
    "down",
    "ultralight",
    "hiking",
    "backpack",
    "tent",
    "two",
    "person",
    "alpine",
    "gore-tex",
    "breathable",
    "stretch",
    "fleece",
]


def clickstream(count: int, seed: int = 1) -> list[dict[str, Any]]:
    """``count`` clickstream events of about 1 KB of JSON each, in time order."""
    draw = random.Random(seed)
    users = [f"u-{draw.getrandbits(48):012x}" for _ in range(5_000)]
    sessions: dict[str, str] = {}
    start = 1_767_225_600.0  # 2026-01-01T00:00:00Z
    events = []
    for i in range(count):
        user = draw.choice(users)
        if user not in sessions or draw.random() < 0.05:
            sessions[user] = f"s-{draw.getrandbits(64):016x}"
        category = draw.choice(CATEGORIES)
        product = draw.randrange(10_000, 99_999)
        country, region, city = draw.choice(COUNTRIES)
        stamp = start + i * 0.37 + draw.random()
        kind = draw.choice(EVENT_TYPES)
        title = " ".join(draw.choices(WORDS, k=draw.randint(3, 7))).title()
        events.append(
            {
                "event_id": f"{draw.getrandbits(128):032x}",
                "type": kind,
                "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(stamp))
                + f".{int(stamp * 1000) % 1000:03d}Z",
                "user_id": user,
                "session_id": sessions[user],
                "page": {
                    "url": f"https://shop.example.com/{category}/{product}"
                    f"?variant={draw.randint(1, 12)}&ref={draw.choice(['nav', 'search', 'reco'])}",
                    "title": f"{title} | Example Outdoor",
                    "referrer": draw.choice(REFERRERS),
                    "category": category,
                },
                "user_agent": draw.choice(USER_AGENTS),
                "ip": f"{draw.randint(1, 223)}.{draw.randint(0, 255)}.{draw.randint(0, 255)}."
                f"{draw.randint(1, 254)}",
                "geo": {"country": country, "region": region, "city": city},
                "device": {
                    "screen": draw.choice(["1920x1080", "1440x900", "390x844", "412x915"]),
                    "viewport": f"{draw.randint(320, 1920)}x{draw.randint(480, 1080)}",
                    "language": draw.choice(["en-US", "de-DE", "fr-FR", "ja-JP", "pt-BR"]),
                },
                "utm": {
                    "source": draw.choice(["google", "newsletter", "facebook", "direct"]),
                    "medium": draw.choice(["cpc", "email", "social", "none"]),
                    "campaign": f"spring-{draw.randint(2024, 2026)}-{draw.choice(CATEGORIES)}",
                },
                "metrics": {
                    "duration_ms": draw.randint(20, 120_000),
                    "scroll_depth": round(draw.random(), 3),
                    "price": round(draw.uniform(4.99, 499.0), 2),
                    "quantity": draw.randint(1, 4) if kind in ("add_to_cart", "purchase") else 0,
                    "position": draw.randint(0, 48),
                },
                "app": {
                    "name": "web-shop",
                    "version": f"3.{draw.randint(0, 14)}.{draw.randint(0, 9)}",
                    "build": f"{draw.getrandbits(40):010x}",
                },
                "cart_id": f"c-{draw.getrandbits(64):016x}" if draw.random() < 0.4 else None,
                "experiments": [f"exp-{draw.randint(100, 140)}" for _ in range(draw.randint(0, 3))],
            }
        )
    return events


def small_events(count: int, seed: int = 2) -> list[dict[str, Any]]:
    """``count`` events of about 100 B of JSON each."""
    draw = random.Random(seed)
    users = [f"u-{draw.getrandbits(32):08x}" for _ in range(5_000)]
    return [
        {
            "user_id": draw.choice(users),
            "type": draw.choice(EVENT_TYPES),
            "ts": 1_767_225_600_000 + i * 370 + draw.randrange(370),
            "value": round(draw.uniform(0, 500), 2),
            "page": draw.randrange(10_000),
        }
        for i in range(count)
    ]


# --- the two transports ----------------------------------------------------------------


class Flushes:
    """Wraps a transport, keeping every flush's emits (to time packing on them after)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.flushes: list[list[Emit]] = []

    def put(self, stream: str, emits: Sequence[Emit]) -> None:
        self.flushes.append(list(emits))
        self.inner.put(stream, emits)


class OneRecordPerEmit:
    """The baseline: each emit its own record (the envelope's bytes, keyed by the emit's
    key), PutRecords of 500, failed entries sent again."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls = 0
        self.written: dict[str, Tally] = {}

    def put(self, stream: str, emits: Sequence[Emit]) -> None:
        tally = self.written.setdefault(stream, Tally())
        records = [OutgoingRecord(e.key or "k", None, e.payload.encode(), 1, None) for e in emits]
        for start in range(0, len(records), 500):
            pending = records[start : start + 500]
            while pending:
                self.calls += 1
                answer = self.client.put_records(
                    StreamName=stream,
                    Records=[{"Data": r.data, "PartitionKey": r.partition_key} for r in pending],
                )
                failed = []
                for record, result in zip(pending, answer["Records"], strict=True):
                    if result.get("ErrorCode"):
                        failed.append(record)
                    else:
                        tally.add(record)
                pending = failed


# --- measuring -------------------------------------------------------------------------


def run(
    kinesis: Any, stream: str, transport: Any, events: list[dict[str, Any]], batch: int
) -> tuple[Flushes, float]:
    """Emit every event through a runner over ``transport``; return the flushes and the
    wall time."""
    kinesis.create_stream(StreamName=stream, ShardCount=SHARDS)
    while (
        kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"][
            "StreamStatus"
        ]
        != "ACTIVE"
    ):
        time.sleep(0.05)

    def emit_each(event: Any, context: Context) -> None:
        context.emit("clicks", event, key=event["user_id"])

    flushes = Flushes(transport)
    runner = Runner(
        handler=emit_each,
        processor="collector",
        topology="bench",
        routes=Routes([{"stream": stream, "topic": None}]),
        transport=flushes,
        max_hops=16,
    )
    inputs = [Record(str(i), "k", encode_input(e, f"t{i}")) for i, e in enumerate(events)]
    started = time.perf_counter()
    for start in range(0, len(inputs), batch):
        assert runner.process(inputs[start : start + batch]) is None
    return flushes, time.perf_counter() - started


def read_back(kinesis: Any, stream: str) -> tuple[int, int]:
    """(records, events) in the stream, every shard read from the start."""
    records = events = 0
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
            for record in page["Records"]:
                records += 1
                events += len(aggregate.unpack(record["Data"], record["PartitionKey"]))
            if not page["Records"] and page.get("MillisBehindLatest", 0) == 0:
                break
            iterator = page.get("NextShardIterator")
    kinesis.delete_stream(StreamName=stream)
    return records, events


def cpu(work: Callable[[], object], rounds: int = 3) -> float:
    """The least process CPU time of ``rounds`` runs of ``work``, in seconds."""
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        work()
        best = min(best, time.process_time() - started)
    return best


def pack_all(flushes: list[list[Emit]]) -> list[OutgoingRecord]:
    return [record for emits in flushes for record in records_for(emits)]


def unpack_all(records: list[OutgoingRecord]) -> int:
    count = 0
    for record in records:
        for _, data in aggregate.unpack(record.data, record.partition_key):
            decode(data, "")
            count += 1
    return count


def encode_each(flushes: list[list[Emit]]) -> list[bytes]:
    return [e.payload.encode() for emits in flushes for e in emits]


def decode_each(payloads: list[bytes]) -> None:
    for payload in payloads:
        decode(payload, "")


def compare(endpoint: str, name: str, events: list[dict[str, Any]], batch: int) -> list[bytes]:
    """Both transports on ``events``; print the table; return the aggregates (uncompressed)
    the emitter wrote, for the compression study."""
    kinesis, _ = connect(endpoint, "us-east-1", read_timeout=30)
    size = sum(len(json.dumps(e, separators=(",", ":"))) for e in events) / len(events)
    print(
        f"\n{name}: {len(events):,} events, mean {size:,.0f} B of JSON data, "
        f"batches of {batch}, keyed by user, {SHARDS} shards"
    )

    baseline = OneRecordPerEmit(kinesis)
    base_flushes, base_wall = run(kinesis, f"baseline-{name}", baseline, events, batch)
    base_read = read_back(kinesis, f"baseline-{name}")
    emitter = KinesisEmitter(kinesis)
    agg_flushes, agg_wall = run(kinesis, f"aggregated-{name}", emitter, events, batch)
    agg_read = read_back(kinesis, f"aggregated-{name}")
    base_tally = baseline.written[f"baseline-{name}"]
    agg_tally = emitter.written[f"aggregated-{name}"]
    assert base_read == (base_tally.records, len(events)), base_read
    assert agg_read == (agg_tally.records, len(events)), agg_read

    n = len(events)
    # The bench holds every event alive (a Lambda holds one batch): without this, the
    # cyclic collector rescans them all while unpacking, and that is not the runtime's cost.
    gc.collect()
    gc.freeze()
    base_pack = cpu(lambda: encode_each(base_flushes.flushes))
    payloads = encode_each(base_flushes.flushes)
    base_unpack = cpu(lambda: decode_each(payloads))
    agg_pack = cpu(lambda: pack_all(agg_flushes.flushes))
    records = pack_all(agg_flushes.flushes)
    assert unpack_all(records) == n
    agg_unpack = cpu(lambda: unpack_all(records))

    rows: list[tuple[str, float, float, str]] = [
        ("Kinesis records written", base_tally.records, agg_tally.records, ",.0f"),
        ("bytes written (data + keys)", base_tally.bytes, agg_tally.bytes, ",.0f"),
        (
            "PUT payload units (provisioned)",
            base_tally.payload_units,
            agg_tally.payload_units,
            ",.0f",
        ),
        ("billed KB (on-demand)", base_tally.billed_kb, agg_tally.billed_kb, ",.0f"),
        ("PutRecords calls", baseline.calls, emitter.calls, ",.0f"),
        ("pack CPU, us/event", base_pack / n * 1e6, agg_pack / n * 1e6, ".2f"),
        ("unpack CPU, us/event", base_unpack / n * 1e6, agg_unpack / n * 1e6, ".2f"),
        ("wall time of the run, s", base_wall, agg_wall, ".2f"),
    ]
    print(f"{'':34} {'one per emit':>14} {'aggregated':>14} {'ratio':>9}")
    for label, base, agg, form in rows:
        ratio = f"{base / agg:,.1f}x" if agg else "-"
        print(f"{label:34} {base:>14{form}} {agg:>14{form}} {ratio:>9}")
    print(f"{'pack + unpack CPU, us/event':34} {'':>14} {(agg_pack + agg_unpack) / n * 1e6:>14.2f}")
    # The aggregates as packed, before compression (unpacking a record and packing its
    # events again gives the same bytes).
    return [aggregate.pack(aggregate.unpack(r.data, r.partition_key)) for r in records]


def compression_levels(aggregates: list[bytes], events: int) -> None:
    raw = sum(len(a) for a in aggregates)
    print(f"\nzlib on the 1 KB events' {len(aggregates):,} aggregates ({raw:,} B before):")
    billed = sum(-(-len(a) // 1024) for a in aggregates)
    print(f"uncompressed, these aggregates would bill {billed:,} KB on-demand")
    print(
        f"{'level':>5} {'ratio':>7} {'billed KB':>10} {'compress us/event':>18} "
        f"{'inflate us/event':>17}"
    )
    for level in (1, 6, 9):
        packed = [zlib.compress(a, level) for a in aggregates]
        squeezed = cpu(lambda level=level: [zlib.compress(a, level) for a in aggregates])
        inflated = cpu(lambda packed=packed: [zlib.decompress(p) for p in packed])
        ratio = raw / sum(len(p) for p in packed)
        kb = sum(-(-(len(p) + 4) // 1024) for p in packed)
        print(
            f"{level:>5} {ratio:>6.2f}x {kb:>10,} {squeezed / events * 1e6:>18.2f} "
            f"{inflated / events * 1e6:>17.2f}"
        )


# --- log bytes per event ----------------------------------------------------------------


def log_bytes_per_event(events: list[dict[str, Any]], batch: int, *, every_record: bool) -> float:
    """What the Lambda entry writes to CloudWatch Logs per event, captured from stdout:
    as it runs in AWS (``RecordLog`` at the default sampling, the start mark of a sampled
    trace, one summary line per invocation), or, with ``every_record``, the line per
    record the runtime wrote before sampling."""

    class Discard:
        def put(self, stream: str, emits: Sequence[Emit]) -> None:
            pass

    def emit_each(event: Any, context: Context) -> None:
        context.emit("clicks", event, key=event["user_id"])

    log = RecordLog("collector", 1.0 if every_record else DEFAULT_TRACE_SAMPLING)
    runner = Runner(
        handler=emit_each if every_record else announced(emit_each, log),
        processor="collector",
        topology="bench",
        routes=Routes([{"stream": "clicks", "topic": None}]),
        transport=Discard(),
        max_hops=16,
        observer=log,
    )
    inputs = [Record(str(i), "k", encode_input(e, f"{i:016x}")) for i, e in enumerate(events)]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for start in range(0, len(inputs), batch):
            log.begin()
            chunk = inputs[start : start + batch]
            runner.process(chunk)
            if not every_record:
                log.end(len(chunk))
    return len(out.getvalue().encode()) / len(events)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500, help="records per invocation")
    args = parser.parse_args()
    large = clickstream(args.events)
    small = small_events(args.events)
    with emulator.start("kinesalite") as local:
        aggregates = compare(local.endpoint_url, "1KB", large, args.batch)
        compare(local.endpoint_url, "100B", small, args.batch)
    compression_levels(aggregates, len(large))
    print(f"(the runtime compresses at level {aggregate.COMPRESSION_LEVEL})")
    print("\nlog bytes per event (what the Lambda entry prints, batches of --batch records):")
    for name, events in (("1 KB", large[:20_000]), ("100 B", small[:20_000])):
        before = log_bytes_per_event(events, args.batch, every_record=True)
        after = log_bytes_per_event(events, args.batch, every_record=False)
        print(
            f"{name:>6} events: a line per record {before:,.1f} B; sampled at "
            f"{DEFAULT_TRACE_SAMPLING:.0%} with a summary per invocation {after:,.2f} B"
        )


if __name__ == "__main__":
    main()
