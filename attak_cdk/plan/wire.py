"""What the runtime writes for an event: Kinesis records and billed units, and log lines.

Computed with the runtime's own code rather than formulas beside it. A flush of
representative emits goes through ``records.groups_for`` and ``records.record_for``
(key buckets, 64 KiB KPL aggregates, zlib where it pays) and is counted by
``records.Tally`` (bytes with the partition key, 25 KB PUT payload units and on-demand
KB, rounded per record); the per-event figures are the flush's divided by its events.

Emits measured from a run (``measure.py``) carry their real data, so zlib compresses
them as it will in AWS. Emits of an assumed size are filler: their records are counted
uncompressed, then each aggregate the runtime would compress (from ``COMPRESS_FROM``
bytes, and only when smaller) is given the assumed compression ratio; a record of one
event is counted uncompressed. A written ``compression``
replaces what zlib did to measured emits the same way.

Log lines are written by ``logs.RecordLog`` itself and measured: the summary line of an
invocation, the start mark and record line of a sampled trace's event, the line of a
failed event, and what a summary line adds when an event failed (its counts and their
metric block); a dead letter is written by ``dead_letters.letter``.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, cast

from ..runtime import dead_letters
from ..runtime.aggregate import COMPRESSED_MAGIC
from ..runtime.context import Context, Emit
from ..runtime.envelope import GENERATED_KEY_LENGTH, encode, encode_input
from ..runtime.handler import FLUSH_EVERY
from ..runtime.logs import RecordLog
from ..runtime.records import COMPRESS_FROM, Tally, groups_for, record_for

TRACE = "0" * GENERATED_KEY_LENGTH
"""A trace id as long as the runtime's."""
SEQUENCE = "4" * 56
"""A Kinesis sequence number: 56 digits."""
REQUEST_ID = "00000000-0000-0000-0000-000000000000"
"""What stands for the sequence number of a direct invocation: Lambda's request id."""
UNKNOWN_TOPIC = "x" * 16
"""Stands in for the topic of a stream that carries every topic."""
HANDLER_MS = 12.345
"""A handler time as the log writes it (milliseconds, three decimals)."""
EXAMPLE_ERROR = ValueError("invalid literal for int() with base 10: 'not a number'")
"""A typical error: its line and its dead letter are measured with it."""


RUNTIME_SECONDS = Decimal("0.000006")
"""CPU seconds of a full core the runtime spends on each event besides decoding its
envelope (which a measured handler time includes): unpacking and packing KPL aggregates,
MD5, zlib both ways. ``bench/wire_efficiency.py`` measured 27-37 µs for pack + unpack of
1 KB events and 11-20 µs for 100 B, of which the envelope decode is 9-12 µs."""
RUNTIME_SECONDS_PER_KB = Decimal("0.000014")
"""And per KB of event data (zlib and MD5 grow with it)."""


def runtime_seconds(event_bytes: Decimal) -> Decimal:
    """A full core's seconds the runtime spends on an event of ``event_bytes``."""
    return RUNTIME_SECONDS + RUNTIME_SECONDS_PER_KB * event_bytes / 1024


@dataclass(frozen=True)
class PerEvent:
    """What one event costs on a stream, on average over a flush."""

    records: Decimal
    bytes: Decimal
    """Data plus partition key, as Kinesis counts throughput."""
    payload_units: Decimal
    billed_bytes: Decimal
    """On-demand's billed bytes: each record rounded up to the next KB."""
    raw_bytes: Decimal
    """Bytes before compression (aggregated, with partition keys)."""

    @property
    def compression(self) -> Decimal:
        """How many times smaller compression made the records."""
        return self.raw_bytes / self.bytes if self.bytes else Decimal(1)


def filler(size: Decimal) -> str:
    """Event data of ``size`` bytes once encoded as JSON (a string of filler)."""
    return "x" * max(0, int(size) - 2)


def synthetic_emit(source: str, topic: str | None, size: Decimal, hops: int) -> Emit:
    """An emit of ``size`` bytes of data by ``source``, keyless, as the runtime encodes it."""
    topic = topic if topic is not None else UNKNOWN_TOPIC
    payload = encode(filler(size), topic=topic, source=source, trace=TRACE, hops=hops)
    return Emit(topic, payload, None, ())


def input_emit(size: Decimal) -> Emit:
    """An outside event of ``size`` bytes as attak's producer writes it to an ingest stream."""
    return Emit("", encode_input(filler(size), TRACE), None, ())


def flush_figures(
    sample: Sequence[Emit], events: int, compression: Decimal | None = None
) -> PerEvent:
    """Per event, what a flush of ``events`` emits drawn in turn from ``sample`` writes.

    ``compression``: a ratio given to each record the runtime compresses, in place of
    what zlib made of it (see the module docstring); ``None`` keeps zlib's.
    """
    count = max(1, events)
    flush = [sample[i % len(sample)] for i in range(count)]
    tally, raw = Tally(), 0
    for group in groups_for(flush):
        record = record_for(group)
        data = record.data
        size = len(data)
        if data.startswith(COMPRESSED_MAGIC):
            size = len(zlib.decompress(data[len(COMPRESSED_MAGIC) :]))
        raw += size + len(record.partition_key.encode())
        if compression is not None:
            modelled = size
            # The ratio is one of aggregates; a lone event compresses far less (zlib has
            # little to find in one event), so it is counted as it is: the safe side.
            if size >= COMPRESS_FROM and record.events > 1:
                modelled = min(size, len(COMPRESSED_MAGIC) + math.ceil(size / compression))
            record = record._replace(data=bytes(modelled))
        tally.add(record)
    per = Decimal(count)
    return PerEvent(
        records=tally.records / per,
        bytes=tally.bytes / per,
        payload_units=tally.payload_units / per,
        billed_bytes=tally.billed_kb * 1024 / per,
        raw_bytes=raw / per,
    )


def average_flush(emits_per_invocation: Decimal) -> Decimal:
    """Emits per flush: an invocation's emits are sent every ``FLUSH_EVERY`` and at its end."""
    if emits_per_invocation <= 0:
        return Decimal(0)
    return emits_per_invocation / math.ceil(emits_per_invocation / FLUSH_EVERY)


@dataclass(frozen=True)
class LogLines:
    """Bytes of each line the runtime writes for one processor (newline included)."""

    summary: int
    """Once per invocation."""
    start: int
    """Before a sampled trace's event."""
    record: int
    """After a sampled trace's event."""
    error: int
    """After a failed event, whatever its trace."""
    metrics: int = 0
    """What the summary line of an invocation in which an event was dead-lettered adds:
    its failure counts and their Embedded Metric Format block."""


def log_lines(
    processor: str,
    emits: dict[str, int],
    events: int,
    records: int,
    direct: bool,
    topology: str = UNKNOWN_TOPIC,
) -> LogLines:
    """The runtime's lines for ``processor`` of ``topology``, written by ``RecordLog``
    and measured.

    ``emits``: topic -> emits of one event (its record line lists them; the summary
    counts ``events`` times as many); ``records``: records per invocation.
    """
    lines: list[str] = []
    ticks = iter((0.0, HANDLER_MS / 1000, 0.0, HANDLER_MS / 1000))
    log = RecordLog(
        processor,
        0.0,
        topology=topology,
        write=lines.append,
        clock=lambda: next(ticks, 0.0),
    )
    record = SimpleNamespace(sequence=REQUEST_ID if direct else SEQUENCE)
    envelope: dict[str, Any] = {"trace": TRACE, "topic": None if direct else UNKNOWN_TOPIC}
    envelope["log"] = 1  # logged whatever the sampling: the line is written
    one = [Emit(topic, "", None, ()) for topic, n in emits.items() for _ in range(n)]
    log.begin()
    log.before(cast(Context, SimpleNamespace(logged=True, trace_id=TRACE)))
    log(record, envelope, one, None, HANDLER_MS / 1000)
    log(record, envelope, [], EXAMPLE_ERROR, HANDLER_MS / 1000)
    log.events, log.errors = events, 0
    log.emits = {topic: n * events for topic, n in emits.items()}
    log.end(records)
    # The same invocation, one of whose events failed its attempts and was dead-lettered.
    log.begin()
    log.events, log.errors = events, 1
    log.emits = {topic: n * (events - 1) for topic, n in emits.items()}
    log.dead_lettered()
    log.end(records)
    start, ok, failed, summary, with_failure = (len(line.encode()) for line in lines)
    return LogLines(
        summary=summary,
        start=start,
        record=ok,
        error=failed,
        metrics=max(0, with_failure - summary),
    )


def dead_letter_bytes(processor: str, stream: str, size: Decimal) -> int:
    """Bytes of the SQS message the runtime sends for a failed event of ``size`` bytes of
    data: the letter ``dead_letters.letter`` writes, with a one-frame traceback."""
    try:  # a fresh error: one raised again would carry every earlier traceback too
        raise ValueError(*EXAMPLE_ERROR.args)
    except ValueError as error:
        caught = error
    envelope: dict[str, Any] = {"data": filler(size), "trace": TRACE, "topic": UNKNOWN_TOPIC}
    envelope.update({"from": processor, "hops": 1})
    document = dead_letters.letter(
        processor=processor,
        source=stream,
        sequence=SEQUENCE,
        payload="",
        envelope=envelope,
        error=caught,
        attempts=3,
    )
    # The time as it is usually written (milliseconds, three decimals): the clock's own
    # can end in a zero that rounding drops, and the size would change by a byte.
    document["time"] = 1_767_225_600.123
    return len(dead_letters.encode(document).encode())
