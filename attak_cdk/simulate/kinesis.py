"""The Kinesis engine: the topology over a real Kinesis API, read as Lambda reads it.

``attak simulate --engine kinesis`` runs the same processors as the memory engine, but
records travel through a Kinesis-compatible server: the user's (``--endpoint-url``:
kinesalite, moto server, LocalStack) or one attak starts on a free loopback port and stops
afterwards (``emulator.py`` says which and why). Nothing here ever talks to AWS itself:
every client is given the endpoint and placeholder credentials.

What happens, as in AWS:

- Every stream of the topology (and every ingest stream) is created with its shard count
  under a name unique to the run, and deleted afterwards.
- Processors emit through the runtime's ``KinesisEmitter``, the very object that runs in
  Lambda: PutRecords calls of at most 500 records and 5 MiB, throttled entries retried
  with backoff, and a batch failed (so retried) when records still cannot be written.
- One reader per shard plays Lambda's event-source mapping: GetShardIterator at
  TRIM_HORIZON, GetRecords up to ``batch_size``, a batch held back up to
  ``max_batching_window`` to fill up (and cut at Lambda's 6 MB invoke payload), then the
  consumer is invoked with a genuine Kinesis event (base64 data, sequence numbers,
  partition keys, ``eventSource: aws:kinesis``) through the same steps as the runtime's
  ``lambda_handler``. The ``batchItemFailures`` it returns are read back as Lambda reads
  them: records before the failing one are checkpointed, the batch is retried from it or
  bisected, and after ``retry_attempts`` (or past ``max_record_age``) the records go to the
  consumer's dead-letter queue: an SQS queue on the same endpoint when it speaks SQS
  (moto, LocalStack; the message is Lambda's own on-failure record), and the run's
  ``dead_letters`` in every case.
- Entry processors are invoked directly, one event per invocation, as ``attak trigger``
  invokes them, with two retries.

Shards are read in rounds, one batch per shard per round, in one thread: handler output
is captured per invocation and runs are easy to follow. The run ends at quiescence: no
input left, no batch buffered or waiting for a retry, and one whole round in which every
shard's GetRecords came back empty and caught up (``MillisBehindLatest`` 0). Handlers run
only inside a round and write synchronously, so after such a round nothing more can
arrive.

Duplicates are what at-least-once delivery allows: a PutRecords call whose answer was
lost after the write, or a batch retried after some of its emits went out. A consumer
reading the same bytes (same trace, hop, sender, topic and data) again under another
sequence number counts one duplicate; the run reports them in ``result.engine``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .. import graph
from ..errors import AttakError
from ..handlers import Handler
from ..inputs import InputEvent
from ..model import StreamSettings, Topology
from ..runtime.context import Emit
from ..runtime.emitter import KinesisEmitter
from ..runtime.envelope import EmitError
from ..runtime.handler import Record, Runner, direct_record, is_kinesis_event, kinesis_records
from . import emulator
from .engine import INPUT, Engine, batch_failed, batch_succeeded
from .result import DeadLetter, Invocation, SimulationResult, describe_error

MAX_INVOKE_PAYLOAD = 6 * 1024 * 1024
"""Lambda's limit on a synchronous invocation's event: a batch is cut before it."""
INPUT_ATTEMPTS = 30
"""PutRecords attempts for outside input."""
MAX_GET_RECORDS = 10_000
"""GetRecords' own limit on records per call."""
REGION = "us-east-1"
WHOLE = -1
"""The failure index of an invocation that raised as a whole (no partial response)."""
ACCOUNT = "000000000000"


class EndpointError(AttakError):
    """The Kinesis endpoint cannot be reached or refuses what the engine needs."""


@dataclass(frozen=True)
class KinesisOptions:
    """How the engine talks to the endpoint. The defaults suit a local emulator."""

    region: str = REGION
    read_timeout: float = 10.0
    """Seconds to wait for an answer before a call counts as timed out (and is retried)."""
    emit_attempts: int = 8
    """PutRecords attempts per call before the batch fails (the emitter's own default)."""
    emit_base_delay: float = 0.05
    emit_max_delay: float = 2.0
    read_retry_delay: float = 0.05
    """Pause before a shard is read again after GetRecords failed."""
    idle_sleep: float = 0.01
    """Pause between rounds when every shard is only waiting for a batching window."""
    emulator: str | None = None
    """``kinesalite`` or ``moto`` when attak starts the endpoint (default: kinesalite if
    installed, else moto)."""


@dataclass
class ShardReader:
    """Lambda's poller for one shard: what it has read, and the retry state at its head."""

    shard_id: str
    iterator: str | None
    buffer: list[dict[str, Any]] = field(default_factory=list)
    """Records read and not yet checkpointed, oldest first (GetRecords' own dicts)."""
    last_read: str | None = None
    """Sequence number of the last record read, to renew an expired iterator after it."""
    since: float = 0.0
    """When the buffer stopped being empty (the batching window runs from here)."""
    caught_up: bool = False
    """The last GetRecords returned nothing and was at the tip of the shard."""
    failures: int = 0
    counted: int = 0
    window: int = 0


@dataclass
class KinesisStream:
    """A topology stream as created on the endpoint."""

    name: str
    """The local name (``from->to[topic]``), as the memory engine and the report use it."""
    physical: str
    """The stream's name on the endpoint."""
    consumer: str
    settings: StreamSettings
    arn: str = ""
    shards: list[ShardReader] = field(default_factory=list)


@dataclass
class EngineFigures:
    """What the wire saw in one run (``result.engine``; ``--json``'s ``engine``)."""

    endpoint: str
    emulator: str | None
    put_records_calls: int = 0
    get_records_calls: int = 0
    get_records_errors: int = 0
    records_read: int = 0
    duplicates: int = 0
    function_errors: int = 0
    """Invocations that raised as a whole (an emit that could not be written): Lambda
    retries the whole batch."""
    dead_letter_queue: bool = False
    """Dead letters were also sent to SQS queues on the endpoint."""
    dead_letter_messages: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"name": "kinesis", **self.__dict__}


class LambdaContext:
    """The parts of Lambda's context object a handler may read, for a local invocation."""

    def __init__(self, processor: str, timeout: int, memory: int, region: str) -> None:
        self.function_name = processor
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{ACCOUNT}:function:{processor}"
        self.memory_limit_in_mb = memory
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{processor}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class PhysicalNames:
    """The emitter, addressed with the topology's stream names.

    Routes keep the local names (``from->to[topic]``) so a run reports them as the memory
    engine does; the emitter writes to the streams' names on the endpoint. (In Lambda the
    CDK stack puts the deployed names straight into the routes.)"""

    def __init__(self, emitter: KinesisEmitter, names: Mapping[str, str]) -> None:
        self.emitter = emitter
        self.names = names

    def put(self, stream: str, emits: Sequence[Emit]) -> None:
        self.emitter.put(self.names[stream], emits)


def physical_name(run: str, construct_id: str) -> str:
    """A Kinesis stream name (``[A-Za-z0-9_.-]``, at most 128) unique to the run."""
    name = f"attak-{run}-{construct_id}"
    if len(name) <= 128:
        return name
    digest = uuid.uuid5(uuid.NAMESPACE_OID, construct_id).hex[:12]
    return f"{name[:115]}-{digest}"


def kinesis_event(
    records: Iterable[Mapping[str, Any]], stream_arn: str, shard_id: str, region: str
) -> dict[str, Any]:
    """The event Lambda's event-source mapping hands a function for GetRecords' records."""
    return {
        "Records": [
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": record["PartitionKey"],
                    "sequenceNumber": record["SequenceNumber"],
                    "data": base64.b64encode(record["Data"]).decode("ascii"),
                    "approximateArrivalTimestamp": _arrival(record),
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{shard_id}:{record['SequenceNumber']}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": f"arn:aws:iam::{ACCOUNT}:role/attak-local",
                "awsRegion": region,
                "eventSourceARN": stream_arn,
            }
            for record in records
        ]
    }


def failed_index(response: Any, sequences: list[str]) -> int | None:
    """Where a partial batch response says the batch failed, as Lambda reads it.

    ``None``: every record succeeded. An identifier that is missing, empty or not in the
    batch fails the whole batch (index 0); of several, the lowest position counts, since
    Lambda checkpoints only below it.
    """
    if not isinstance(response, dict):
        return None
    failures = response.get("batchItemFailures")
    if not failures:
        return None
    positions = {sequence: index for index, sequence in enumerate(sequences)}
    found = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in positions:
            return 0
        found.append(positions[identifier])
    return min(found)


def _arrival(record: Mapping[str, Any]) -> float:
    stamp = record.get("ApproximateArrivalTimestamp")
    return stamp.timestamp() if isinstance(stamp, datetime) else time.time()


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds")


class KinesisEngine(Engine):
    """Runs one topology through a Kinesis endpoint. Use ``simulate`` for a one-call run,
    or ``with KinesisEngine(...) as engine: engine.run(events)`` to keep the endpoint."""

    def __init__(
        self,
        topology: Topology,
        *,
        endpoint_url: str,
        max_hops: int | None = None,
        seed: int = 0,
        handlers: Mapping[str, Handler] | None = None,
        on_invocation: Callable[[Invocation], None] | None = None,
        options: KinesisOptions | None = None,
        emulator_kind: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        import boto3
        from botocore.config import Config

        self.options = options or KinesisOptions()
        self.endpoint_url = endpoint_url
        self._clock = clock
        self._run_id = os.urandom(4).hex()
        self.streams: dict[str, KinesisStream] = {}
        for stream in topology.streams:
            local = graph.stream_name(stream)
            self.streams[local] = KinesisStream(
                local,
                physical_name(self._run_id, graph.stream_id(stream)),
                stream.target,
                stream.settings,
            )
        for name, processor in topology.processors.items():
            if processor.input == "stream":
                local = graph.ingest_stream_name(name)
                self.streams[local] = KinesisStream(
                    local,
                    physical_name(self._run_id, graph.ingest_stream_id(name)),
                    name,
                    topology.ingest_settings,
                )
        super().__init__(topology, max_hops=max_hops, seed=seed, on_invocation=on_invocation)
        session = boto3.session.Session(
            # Placeholders: a local endpoint takes any, and the user's own credentials
            # (and with them a real account) are never picked up.
            aws_access_key_id="attak",
            aws_secret_access_key="attak",
            region_name=self.options.region,
        )
        config = Config(
            # The emitter and the shard readers retry themselves, as Lambda does.
            retries={"max_attempts": 1, "mode": "standard"},
            connect_timeout=2,
            read_timeout=self.options.read_timeout,
        )
        # Typed loosely: the engine reads the answers as the JSON documents they are.
        self.kinesis: Any = session.client("kinesis", endpoint_url=endpoint_url, config=config)
        self.sqs: Any = session.client("sqs", endpoint_url=endpoint_url, config=config)
        self.emitter = KinesisEmitter(
            self.kinesis,
            max_attempts=self.options.emit_attempts,
            base_delay=self.options.emit_base_delay,
            max_delay=self.options.emit_max_delay,
        )
        self.figures = EngineFigures(endpoint_url, emulator_kind)
        self.result.engine = self.figures.as_dict()
        transport = PhysicalNames(self.emitter, {s.name: s.physical for s in self.streams.values()})
        self.runners = self._build_runners(transport, handlers)
        self._parents: dict[str, int] = {}
        """Record data -> the invocation that emitted it (the envelope carries no id)."""
        self._seen: dict[str, dict[bytes, str]] = {}
        """Per stream: record data -> sequence number first read, to count duplicates."""
        self._queues: dict[str, str] = {}
        self._created = False
        self._input_calls = 0

    # --- Setting up and tearing down ------------------------------------------------------

    def __enter__(self) -> KinesisEngine:
        self.create()
        return self

    def __exit__(self, *_: object) -> None:
        self.delete()

    def create(self) -> None:
        """Create every stream (and, where the endpoint has SQS, the dead-letter queues)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.kinesis.list_streams(Limit=1)
        except (BotoCoreError, ClientError) as exc:
            raise EndpointError(
                f"the Kinesis endpoint {self.endpoint_url} does not answer ({exc}); start "
                "kinesalite, moto server or LocalStack there, or leave out --endpoint-url "
                "and attak starts one"
            ) from None
        self._created = True
        try:
            for stream in self.streams.values():
                self.kinesis.create_stream(
                    StreamName=stream.physical, ShardCount=stream.settings.shards or 1
                )
            for stream in self.streams.values():
                self._open(stream)
        except ClientError as exc:
            raise EndpointError(
                f"the Kinesis endpoint {self.endpoint_url} refused to create the topology's "
                f"streams: {exc}"
            ) from None
        self._create_queues()
        self.figures.dead_letter_queue = bool(self._queues)

    def _open(self, stream: KinesisStream) -> None:
        """Wait for the stream to be ACTIVE and open a TRIM_HORIZON iterator per shard.

        The iterators are taken before any input is sent, so LATEST would read the same
        records: ``starting_position`` makes no difference in a fresh run."""
        deadline = time.monotonic() + 30
        while True:
            summary = self.kinesis.describe_stream_summary(StreamName=stream.physical)
            description = summary["StreamDescriptionSummary"]
            if description["StreamStatus"] == "ACTIVE":
                break
            if time.monotonic() > deadline:
                raise EndpointError(
                    f"stream '{stream.name}' ({stream.physical}) did not become ACTIVE on "
                    f"{self.endpoint_url} within 30 s"
                )
            time.sleep(0.05)
        stream.arn = description["StreamARN"]
        shards = self.kinesis.list_shards(StreamName=stream.physical)["Shards"]
        for shard in sorted(shards, key=lambda s: int(s["HashKeyRange"]["StartingHashKey"])):
            iterator = self.kinesis.get_shard_iterator(
                StreamName=stream.physical,
                ShardId=shard["ShardId"],
                ShardIteratorType="TRIM_HORIZON",
            )["ShardIterator"]
            stream.shards.append(ShardReader(shard["ShardId"], iterator))

    def _create_queues(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        consumers = sorted({s.consumer for s in self.streams.values()})
        entries = [n for n, p in self.topology.processors.items() if p.input != "stream"]
        for processor in [*consumers, *entries]:
            name = f"attak-{self._run_id}-{graph.pascal(processor)}"[:60] + "-dead-letters"
            try:
                url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
            except (BotoCoreError, ClientError):
                return  # the endpoint speaks no SQS (kinesalite): dead letters stay local
            self._queues[processor] = url

    def delete(self) -> None:
        """Delete what ``create`` made: the endpoint may be the user's and outlive the run."""
        from botocore.exceptions import BotoCoreError, ClientError

        if not self._created:
            return
        self._created = False
        # Already gone, or the endpoint went away: either way nothing is left to clean.
        for url in self._queues.values():
            with contextlib.suppress(BotoCoreError, ClientError):
                self.sqs.delete_queue(QueueUrl=url)
        for stream in self.streams.values():
            with contextlib.suppress(BotoCoreError, ClientError):
                self.kinesis.delete_stream(StreamName=stream.physical, EnforceConsumerDeletion=True)

    # --- Running -------------------------------------------------------------------------

    def run(self, events: Iterable[InputEvent]) -> SimulationResult:
        """Create the streams if needed, send the events, drain every stream."""
        if not self._created:
            self.create()
        result = super().run(events)
        self.figures.put_records_calls = self.emitter.calls + self._input_calls
        self.result.engine = self.figures.as_dict()
        return result

    def send(self, events: Iterable[InputEvent]) -> None:
        """Deliver outside events in order: PutRecords into a processor's ingest stream
        (in bulk, as a producer would), or one direct invocation per event."""
        processors = self.topology.processors
        ingest: dict[str, list[Emit]] = {}
        for event in events:
            trace, payload = self._input_record(event)
            if processors[event.processor].input == "stream":
                stream = self.streams[graph.ingest_stream_name(event.processor)].physical
                ingest.setdefault(stream, []).append(Emit("", event.data, payload, trace, ()))
            else:
                self._invoke_direct(event.processor, json.loads(payload), trace)
        for stream, emits in ingest.items():
            self._put_input(stream, emits)

    def _put_input(self, stream: str, emits: list[Emit]) -> None:
        """Write outside input as a patient producer does: more attempts than a
        processor's emitter, since no batch retry stands behind it."""
        producer = KinesisEmitter(
            self.kinesis,
            max_attempts=INPUT_ATTEMPTS,
            base_delay=self.options.emit_base_delay,
            max_delay=self.options.emit_max_delay,
        )
        try:
            producer.put(stream, emits)
        except EmitError as exc:
            raise EndpointError(f"outside input could not be written: {exc}") from None
        finally:
            self._input_calls += producer.calls

    def _invoke_direct(self, processor: str, event: Any, request_id: str) -> None:
        """One direct invocation, as Lambda's entry point receives it from ``attak trigger``."""
        runner = self.runners[processor]
        self._processor, self._source, self._head = processor, INPUT, None
        record = direct_record(event, request_id)
        failed = self._process(runner, [record])
        self._stop_at_loop()
        if failed is not None:
            before = len(self.result.dead_letters)
            self._retry_direct(runner, record, failed[1])
            if len(self.result.dead_letters) > before:
                letter = self.result.dead_letters[-1]
                message = _direct_message(runner, event, letter, self.options.region)
                self._send_dead_letter(processor, message)

    def _process(self, runner: Runner, records: list[Record]) -> tuple[int, BaseException] | None:
        """``Runner.process`` as Lambda runs it, with a context. An emit that cannot be
        written raises out of ``process``: the whole invocation failed (index ``WHOLE``),
        and Lambda retries the whole batch."""
        processor = self.topology.processors[runner.processor]
        context = LambdaContext(
            runner.processor, processor.timeout, processor.memory, self.options.region
        )
        try:
            return runner.process(records, context)
        except Exception as error:  # raised by a flush: the function errored as a whole
            self.figures.function_errors += 1
            return WHOLE, error

    def pending(self) -> int:
        """Records buffered by the readers plus those still unread in the streams."""
        count = 0
        for stream in self.streams.values():
            for reader in stream.shards:
                count += len(reader.buffer)
                while reader.iterator:
                    try:
                        answer = self.kinesis.get_records(
                            ShardIterator=reader.iterator, Limit=MAX_GET_RECORDS
                        )
                    except Exception:
                        break
                    count += len(answer["Records"])
                    reader.iterator = answer.get("NextShardIterator")
                    if not answer["Records"]:
                        break
        return count

    def drain(self) -> None:
        """Poll every shard, round after round, until the topology is quiet (see above)."""
        while True:
            busy = False
            for stream in self.streams.values():
                for reader in stream.shards:
                    busy = self._poll(stream, reader) or busy
            if busy:
                continue
            if all(r.caught_up and not r.buffer for s in self.streams.values() for r in s.shards):
                return
            time.sleep(self.options.idle_sleep)  # only batching windows are left to run out

    def _poll(self, stream: KinesisStream, reader: ShardReader) -> bool:
        """Read the shard, then invoke its consumer if a batch is ready. Return whether
        anything happened (records read or a batch invoked)."""
        settings = stream.settings
        read = 0
        if len(reader.buffer) < settings.batch_size and reader.iterator is not None:
            read = self._read(stream, reader, settings.batch_size - len(reader.buffer))
        if not reader.buffer:
            return read > 0
        now = self._clock()
        if settings.max_record_age is not None:
            self._expire(stream, reader, now - settings.max_record_age)
            if not reader.buffer:
                return True
        ready = (
            len(reader.buffer) >= settings.batch_size
            or reader.failures > 0  # a retry does not wait for the window again
            or now - reader.since >= settings.max_batching_window
        )
        if not ready:
            return read > 0
        self._invoke_batch(stream, reader)
        return True

    def _read(self, stream: KinesisStream, reader: ShardReader, limit: int) -> int:
        from botocore.exceptions import BotoCoreError, ClientError

        self.figures.get_records_calls += 1
        try:
            answer = self.kinesis.get_records(
                ShardIterator=reader.iterator, Limit=min(limit, MAX_GET_RECORDS)
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ExpiredIteratorException":
                reader.iterator = self._renew(stream, reader)
            else:
                self._read_failed(reader)
            return 0
        except BotoCoreError:  # a timeout or a dropped connection: read again shortly
            self._read_failed(reader)
            return 0
        records: list[dict[str, Any]] = answer["Records"]
        reader.iterator = answer.get("NextShardIterator")
        behind = answer.get("MillisBehindLatest", 0)
        reader.caught_up = not records and not behind
        if not records:
            return 0
        if not reader.buffer:
            reader.since = self._clock()
        seen = self._seen.setdefault(stream.physical, {})
        for record in records:
            data: bytes = record["Data"]
            first = seen.setdefault(data, record["SequenceNumber"])
            if first != record["SequenceNumber"]:
                self.figures.duplicates += 1
        reader.buffer.extend(records)
        reader.last_read = records[-1]["SequenceNumber"]
        self.figures.records_read += len(records)
        return len(records)

    def _read_failed(self, reader: ShardReader) -> None:
        self.figures.get_records_errors += 1
        reader.caught_up = False
        time.sleep(self.options.read_retry_delay)

    def _renew(self, stream: KinesisStream, reader: ShardReader) -> str:
        """A new iterator just after the last record read (iterators expire in 5 minutes)."""
        if reader.last_read is None:
            kind: dict[str, str] = {"ShardIteratorType": "TRIM_HORIZON"}
        else:
            kind = {
                "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
                "StartingSequenceNumber": reader.last_read,
            }
        answer = self.kinesis.get_shard_iterator(
            StreamName=stream.physical, ShardId=reader.shard_id, **kind
        )
        return str(answer["ShardIterator"])

    def _batch(self, stream: KinesisStream, reader: ShardReader) -> list[dict[str, Any]]:
        """The next batch: up to batch_size (or the bisect window), under 6 MB of event."""
        size = min(stream.settings.batch_size, reader.window or stream.settings.batch_size)
        batch: list[dict[str, Any]] = []
        payload = 0
        for record in reader.buffer[:size]:
            # base64 data plus the record's JSON keys and metadata (about 600 bytes)
            weight = (len(record["Data"]) + 2) // 3 * 4 + len(record["PartitionKey"]) + 600
            if batch and payload + weight > MAX_INVOKE_PAYLOAD:
                break
            batch.append(record)
            payload += weight
        return batch

    def _invoke_batch(self, stream: KinesisStream, reader: ShardReader) -> None:
        batch = self._batch(stream, reader)
        event = kinesis_event(batch, stream.arn, reader.shard_id, self.options.region)
        runner = self.runners[stream.consumer]
        response, error = self._lambda_handler(runner, event, reader.failures + 1, stream.name)
        self._stop_at_loop()
        # No response at all means the function failed as a whole: the batch failed at 0.
        index = (
            0 if response is None else failed_index(response, [r["SequenceNumber"] for r in batch])
        )
        if index is None:
            del reader.buffer[: len(batch)]
            batch_succeeded(reader)
            return
        if index:
            del reader.buffer[:index]  # checkpointed: the failing record is the new head
        if error is None:
            error = RuntimeError("the batch response reported a failure")
        if not batch_failed(reader, stream.settings, index, len(batch) - index):
            return
        failing = batch[index:]
        del reader.buffer[: len(failing)]
        self._dead_letter_records(stream, reader, failing, error, reader.failures)
        batch_succeeded(reader)

    def _lambda_handler(
        self, runner: Runner, event: dict[str, Any], attempt: int, source: str
    ) -> tuple[dict[str, Any] | None, BaseException | None]:
        """What the runtime's ``lambda_handler`` does with a Kinesis event, for ``runner``
        (``lambda_handler`` builds its one runner from Lambda's environment). Returns the
        partial batch response (``None`` when the function raised) and the error."""
        assert is_kinesis_event(event)
        records = kinesis_records(event)
        parents = self._parents
        for record in records:
            payload = record.payload
            record.tag = parents.get(
                payload.decode(errors="replace") if isinstance(payload, bytes) else payload
            )
        self._processor, self._source = runner.processor, source
        self._head, self._head_attempt = records[0], attempt
        failed = self._process(runner, records)
        self._head, self._head_attempt = None, 1
        if failed is None:
            return {"batchItemFailures": []}, None
        index, error = failed
        if index == WHOLE:
            return None, error
        return {"batchItemFailures": [{"itemIdentifier": records[index].sequence}]}, error

    def _observe(
        self,
        record: Record | Emit,
        envelope: Any,
        emits: list[Emit],
        error: BaseException | None,
        seconds: float,
    ) -> None:
        super()._observe(record, envelope, emits, error, seconds)
        if error is None:
            number = len(self.result.rows)
            for emit in emits:
                if emit.streams:
                    self._parents[emit.payload] = number

    def _expire(self, stream: KinesisStream, reader: ShardReader, oldest: float) -> None:
        """Records older than max_record_age leave the shard as dead letters unprocessed."""
        expired = 0
        for record in reader.buffer:
            if _arrival(record) >= oldest:
                break
            expired += 1
        if not expired:
            return
        records = reader.buffer[:expired]
        del reader.buffer[:expired]
        error = TimeoutError(f"record older than max_record_age {stream.settings.max_record_age} s")
        self._dead_letter_records(
            stream, reader, records, error, reader.failures, condition="RecordAgeExceeded"
        )
        batch_succeeded(reader)

    def _dead_letter_records(
        self,
        stream: KinesisStream,
        reader: ShardReader,
        records: list[dict[str, Any]],
        error: BaseException,
        attempts: int,
        condition: str = "RetryAttemptsExhausted",
    ) -> None:
        failing = [Record(r["SequenceNumber"], r["PartitionKey"], r["Data"]) for r in records]
        if condition == "RecordAgeExceeded":
            for record in failing:
                self._dead_letter(stream.consumer, stream.name, record, describe_error(error), 0)
        else:
            self._dead_letter_batch(stream.consumer, stream.name, failing, error, attempts)
        runner = self.runners[stream.consumer]
        self._send_dead_letter(
            stream.consumer,
            {
                "requestContext": {
                    "requestId": str(uuid.uuid4()),
                    "functionArn": _function_arn(runner, self.options.region),
                    "condition": condition,
                    "approximateInvokeCount": attempts,
                },
                "responseContext": {
                    "statusCode": 200,
                    "executedVersion": "$LATEST",
                    "functionError": "Unhandled",
                },
                "version": "1.0",
                "timestamp": _iso(time.time()),
                "KinesisBatchInfo": {
                    "shardId": reader.shard_id,
                    "startSequenceNumber": records[0]["SequenceNumber"],
                    "endSequenceNumber": records[-1]["SequenceNumber"],
                    "approximateArrivalOfFirstRecord": _iso(_arrival(records[0])),
                    "approximateArrivalOfLastRecord": _iso(_arrival(records[-1])),
                    "batchSize": len(records),
                    "streamArn": stream.arn,
                },
            },
        )

    def _send_dead_letter(self, processor: str, message: dict[str, Any]) -> None:
        """Lambda's on-failure record into the processor's queue, when there is one."""
        url = self._queues.get(processor)
        if url is None:
            return
        try:
            self.sqs.send_message(QueueUrl=url, MessageBody=json.dumps(message, default=str))
        except Exception as exc:
            raise EndpointError(
                f"the dead letter of processor '{processor}' could not be sent to {url}: {exc}"
            ) from None
        self.figures.dead_letter_messages += 1

    def queue_messages(self, processor: str) -> list[dict[str, Any]]:
        """The on-failure records in ``processor``'s dead-letter queue (empty without SQS)."""
        url = self._queues.get(processor)
        messages: list[dict[str, Any]] = []
        while url is not None:
            answer = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
            batch = answer.get("Messages", [])
            if not batch:
                break
            for message in batch:
                messages.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return messages


def _function_arn(runner: Runner, region: str) -> str:
    return f"arn:aws:lambda:{region}:{ACCOUNT}:function:{runner.processor}"


def _direct_message(runner: Runner, event: Any, letter: DeadLetter, region: str) -> dict[str, Any]:
    """Lambda's on-failure record of an asynchronous invocation that ran out of retries."""
    kind, _, message = letter.error.partition(": ")
    return {
        "version": "1.0",
        "timestamp": _iso(time.time()),
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": _function_arn(runner, region),
            "condition": "RetriesExhausted",
            "approximateInvokeCount": letter.attempts,
        },
        "requestPayload": event,
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "responsePayload": {"errorMessage": message, "errorType": kind},
    }


def simulate(
    topology: Topology,
    events: Iterable[InputEvent],
    *,
    endpoint_url: str | None = None,
    max_hops: int | None = None,
    seed: int = 0,
    on_invocation: Callable[[Invocation], None] | None = None,
    options: KinesisOptions | None = None,
) -> SimulationResult:
    """Run ``events`` through ``topology`` over Kinesis: at ``endpoint_url``, or on an
    emulator started for this run and stopped after it."""
    options = options or KinesisOptions()
    if endpoint_url is not None:
        return _run(topology, events, endpoint_url, None, max_hops, seed, on_invocation, options)
    with emulator.start(options.emulator) as local:
        return _run(
            topology, events, local.endpoint_url, local.kind, max_hops, seed, on_invocation, options
        )


def _run(
    topology: Topology,
    events: Iterable[InputEvent],
    endpoint_url: str,
    kind: str | None,
    max_hops: int | None,
    seed: int,
    on_invocation: Callable[[Invocation], None] | None,
    options: KinesisOptions,
) -> SimulationResult:
    engine = KinesisEngine(
        topology,
        endpoint_url=endpoint_url,
        max_hops=max_hops,
        seed=seed,
        on_invocation=on_invocation,
        options=options,
        emulator_kind=kind,
    )
    try:
        return engine.run(events)
    finally:
        # An engine on the user's endpoint cleans up; a run on attak's own emulator just
        # stops it.
        if kind is None:
            engine.delete()


__all__ = [
    "EndpointError",
    "EngineFigures",
    "KinesisEngine",
    "KinesisOptions",
    "failed_index",
    "kinesis_event",
    "simulate",
]
