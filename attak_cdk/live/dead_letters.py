"""``attak dead-letters``: list, show and replay a deployed topology's dead letters.

Every processor has an SQS dead-letter queue (kept 14 days) holding the three shapes of
letter ``letters.py`` reads. This module reads the queues, reads a Lambda batch record's
Kinesis records back from its stream, and sends letters back where they came from.

Reading never takes a letter out. ReceiveMessage hides each message it returns for a
visibility timeout and returns at most 10 a call, sampling some of SQS's servers only
(short polling), so a queue is read in rounds until a long poll, which asks every
server, finds nothing more ("ReceiveMessage": https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html).
Each message read is made visible again when the command is done (a visibility timeout
of 0); if attak is killed first, they come back by themselves when the timeout ends.
Counts are then exact for the letters read; a queue with more than ``READ_LIMIT``, or
with letters another reader holds, is counted from SQS's approximate attributes, and
the listing says so.

Replay sends each letter back into its processor's input, the way it came:

- a runtime letter (``event``) goes back into the stream it was read from, as the
  envelope it had (data, topic, sender, trace, hops), through the runtime's own
  ``Producer``: a letter of stream X goes into stream X, and so only to its processor
  (each attak stream has one consumer), which reads it with the stream's batching,
  retries and dead-lettering, as it read it the first time. Its trace is kept and marked
  to be logged, so ``attak logs --trace`` follows the replay;
- a Lambda batch record (``batch``) has no data: its records are read back from the
  stream (GetShardIterator ``AT_SEQUENCE_NUMBER``, then GetRecords up to its end sequence
  number) and written into that stream again as they were, partition keys included;
  once the stream's retention has dropped them, it cannot be replayed and says so;
- a direct invocation's record (``invoke``) is invoked again, asynchronously, with the
  payload Lambda kept (``requestPayload``): a direct invocation was its input.

A letter is deleted from its queue only once its replay was accepted (the stream wrote
its record, Lambda queued the invocation), one chunk at a time: when replay stops half
way, what was not accepted is still in the queue, and at worst a letter accepted just
before a failed delete is replayed twice (at-least-once, as everywhere in attak).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import AttakError
from ..runtime.emitter import KinesisEmitter, WriteError
from ..runtime.envelope import EmitError, encode, encode_input
from ..runtime.producer import Producer
from ..runtime.records import OutgoingRecord
from .connection import error_code, error_text, with_backoff
from .deployment import Deployment
from .letters import Letter, Selection, read_letter

READ_LIMIT = 1000
"""Letters read per queue by default: the rest are counted from SQS's attributes."""
HOLD_LISTING = 60
"""Seconds a listing hides the letters it reads (released as soon as it is done)."""
HOLD_REPLAY = 900
"""Seconds a replay holds the letters it selected: long enough to send them all."""
CHUNK = 100
"""Letters sent before the accepted ones are deleted: what replay may have to resend."""
MAX_ATTEMPTS = 8
FETCH_LIMIT = 10_000
"""GetRecords' limit on records per call."""
MAX_PAGES = 100
"""GetRecords calls spent looking for a batch record's records."""


class DeadLetterError(AttakError):
    """The dead letters asked for are not there, or cannot be acted on."""


@dataclass
class QueueContents:
    """What one processor's dead-letter queue holds, as far as it was read."""

    processor: str
    queue: str
    letters: list[Letter] = field(default_factory=list)
    visible: int = 0
    """SQS's ``ApproximateNumberOfMessages`` before reading."""
    held: int = 0
    """SQS's ``ApproximateNumberOfMessagesNotVisible``: letters another reader holds."""
    complete: bool = True
    """Whether every letter visible was read (no limit reached)."""

    @property
    def count(self) -> int:
        """Letters in the queue: those read, or SQS's approximate count when larger."""
        read = len(self.letters)
        return read if self.exact else max(read, self.visible + self.held)

    @property
    def exact(self) -> bool:
        """Whether ``count``, oldest and newest are exact: every letter was read."""
        return self.complete and self.held == 0

    @property
    def oldest(self) -> float | None:
        return min((letter.sent for letter in self.letters), default=None)

    @property
    def newest(self) -> float | None:
        return max((letter.sent for letter in self.letters), default=None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "processor": self.processor,
            "queue": self.queue,
            "count": self.count,
            "exact": self.exact,
            "read": len(self.letters),
            "held_elsewhere": self.held,
            "oldest": self.oldest,
            "newest": self.newest,
        }


class Queues:
    """The deployment's dead-letter queues, read through one SQS client."""

    def __init__(self, deployment: Deployment, sqs: Any, *, wait: int = 1) -> None:
        self.deployment = deployment
        self.sqs = sqs
        self.wait = wait
        """Seconds of the long poll that confirms a queue is read to its end."""

    def processors(self, names: Iterable[str] = ()) -> list[str]:
        """The processors named (each checked against the deployment), or all that have a
        queue, in the deployment's order."""
        wanted = list(names)
        for name in wanted:
            self.deployment.processor(name)  # an unknown one: LiveError with did-you-mean
        chosen = wanted or list(self.deployment.processors)
        return [n for n in chosen if self.deployment.processors[n].dead_letter_queue]

    def read(self, processor: str, *, hold: int, limit: int = READ_LIMIT) -> QueueContents:
        """Read up to ``limit`` letters of ``processor``'s queue, hiding them for ``hold``
        seconds (``release`` shows them again)."""
        url = self.deployment.processors[processor].dead_letter_queue
        assert url is not None
        attributes = with_backoff(
            lambda: self.sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                ],
            )
        ).get("Attributes", {})
        contents = QueueContents(
            processor,
            url,
            visible=int(attributes.get("ApproximateNumberOfMessages", 0)),
            held=int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
        )
        seen: set[str] = set()
        confirming = False
        while len(contents.letters) < limit:
            batch = self._receive(url, hold, min(10, limit - len(contents.letters)), confirming)
            fresh = [m for m in batch if m.get("MessageId") not in seen]
            if not fresh:
                if confirming or not self.wait:
                    break
                confirming = True  # short polls may miss some servers: one long poll asks all
                continue
            confirming = False
            for message in fresh:
                seen.add(str(message.get("MessageId")))
                contents.letters.append(read_letter(processor, message))
        else:
            contents.complete = False
        return contents

    def _receive(self, url: str, hold: int, count: int, wait: bool) -> list[dict[str, Any]]:
        answer = with_backoff(
            lambda: self.sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=count,
                VisibilityTimeout=hold,
                WaitTimeSeconds=self.wait if wait else 0,
                MessageSystemAttributeNames=["SentTimestamp", "ApproximateReceiveCount"],
            )
        )
        return list(answer.get("Messages", []))

    def release(self, letters: Sequence[Letter]) -> None:
        """Make letters read visible again at once (best effort: they come back anyway
        when their visibility timeout ends)."""
        for url, group in self._by_queue(letters):
            for start in range(0, len(group), 10):
                entries = [
                    {"Id": str(i), "ReceiptHandle": letter.receipt, "VisibilityTimeout": 0}
                    for i, letter in enumerate(group[start : start + 10])
                ]
                try:
                    self.sqs.change_message_visibility_batch(QueueUrl=url, Entries=entries)
                except Exception:  # best effort, see the docstring
                    continue

    def delete(self, letters: Sequence[Letter]) -> dict[str, str]:
        """Delete letters from their queues; the id and reason of each not deleted."""
        failed: dict[str, str] = {}
        for url, group in self._by_queue(letters):
            for start in range(0, len(group), 10):
                chunk = group[start : start + 10]
                entries = [
                    {"Id": str(i), "ReceiptHandle": letter.receipt}
                    for i, letter in enumerate(chunk)
                ]
                try:
                    answer = self._delete_batch(url, entries)
                except Exception as exc:  # botocore's: every letter of the chunk stays
                    for letter in chunk:
                        failed[letter.id] = error_text(exc)
                    continue
                for entry in answer.get("Failed", []):
                    letter = chunk[int(entry["Id"])]
                    failed[letter.id] = f"{entry.get('Code', '')}: {entry.get('Message', '')}"
        return failed

    def _delete_batch(self, url: str, entries: list[dict[str, str]]) -> dict[str, Any]:
        return dict(
            with_backoff(lambda: self.sqs.delete_message_batch(QueueUrl=url, Entries=entries))
        )

    def _by_queue(self, letters: Sequence[Letter]) -> list[tuple[str, list[Letter]]]:
        groups: dict[str, list[Letter]] = {}
        for letter in letters:
            url = self.deployment.processors[letter.processor].dead_letter_queue
            if url is not None:
                groups.setdefault(url, []).append(letter)
        return list(groups.items())


def list_queues(
    queues: Queues, processors: Iterable[str] = (), limit: int = READ_LIMIT
) -> list[QueueContents]:
    """Each processor's queue, read and released: counts, oldest and newest letter."""
    found = []
    for processor in queues.processors(processors):
        contents = queues.read(processor, hold=HOLD_LISTING, limit=limit)
        queues.release(contents.letters)
        found.append(contents)
    return found


def find_letter(queues: Queues, letter_id: str, processors: Iterable[str] = ()) -> Letter:
    """The letter with message id ``letter_id`` (or, failing that, the first with that
    trace id), read and released; ``DeadLetterError`` when no queue holds it."""
    by_trace: Letter | None = None
    searched = queues.processors(processors)
    for processor in searched:
        contents = queues.read(processor, hold=HOLD_LISTING)
        queues.release(contents.letters)
        for letter in contents.letters:
            if letter.id == letter_id:
                return letter
            if by_trace is None and letter.trace == letter_id:
                by_trace = letter
    if by_trace is not None:
        return by_trace
    raise DeadLetterError(
        f"no dead letter has the id or trace id '{letter_id}' in the queues of "
        f"{', '.join(searched) or 'no processor'}: `attak dead-letters list` shows the ids "
        "(a letter replayed or older than 14 days is gone)"
    )


# --- Records of a Lambda batch record --------------------------------------------------------


@dataclass(frozen=True)
class FetchedRecords:
    """The Kinesis records a batch record points to, or why they cannot be had."""

    records: list[dict[str, Any]]
    """GetRecords' own dicts (``Data`` bytes, ``PartitionKey``, ``SequenceNumber``)."""
    missing: str | None = None
    """Why they are not all there (expired from the stream, stream gone); ``None`` if they are."""


def fetch_records(kinesis: Any, letter: Letter) -> FetchedRecords:
    """Read a batch record's Kinesis records back from its stream: from its start sequence
    number (``AT_SEQUENCE_NUMBER``) to its end one, while the stream's retention keeps them."""
    batch = letter.batch
    if batch is None:
        return FetchedRecords([], "the letter names no Kinesis records")
    end = int(batch.end) if batch.end.isdigit() else None
    try:
        iterator = with_backoff(
            lambda: kinesis.get_shard_iterator(
                StreamName=batch.stream,
                ShardId=batch.shard,
                ShardIteratorType="AT_SEQUENCE_NUMBER",
                StartingSequenceNumber=batch.start,
            )
        )["ShardIterator"]
        records: list[dict[str, Any]] = []
        pages = 0
        while iterator:
            answer = _get_records(kinesis, iterator)
            page = answer.get("Records", [])
            for record in page:
                if end is not None and int(record["SequenceNumber"]) > end:
                    return _checked(records, batch.start)
                records.append(record)
            pages += 1
            # Past the end, caught up with the shard, or a page limit (a shard whose tail
            # stays empty): what was read is all there is.
            if end is None or answer.get("MillisBehindLatest") == 0 or pages >= MAX_PAGES:
                break
            iterator = answer.get("NextShardIterator")
    except Exception as exc:
        code = error_code(exc)
        if code in ("ResourceNotFoundException", "InvalidArgumentException"):
            return FetchedRecords(
                [],
                f"its records are no longer in stream '{batch.stream}' (the stream's retention "
                f"has dropped them, or the stream is gone): {error_text(exc)}",
            )
        raise
    return _checked(records, batch.start)


def _get_records(kinesis: Any, iterator: str) -> dict[str, Any]:
    return dict(
        with_backoff(lambda: kinesis.get_records(ShardIterator=iterator, Limit=FETCH_LIMIT))
    )


def _checked(records: list[dict[str, Any]], start: str) -> FetchedRecords:
    if not records or records[0]["SequenceNumber"] != start:
        return FetchedRecords(
            records,
            "its first record has expired from the stream (its retention has dropped it)",
        )
    return FetchedRecords(records)


# --- Replay ----------------------------------------------------------------------------------


@dataclass
class Replay:
    """What became of one letter sent back (or, with a dry run, where it would go)."""

    letter: Letter
    via: str
    """``stream`` (written into ``target``), ``invoke`` (invoked again), or ``skip``."""
    target: str
    """The physical stream or function name ("" when skipped)."""
    accepted: bool = False
    """The stream wrote it, or Lambda queued the invocation."""
    deleted: bool = False
    """It was removed from its queue (only once accepted)."""
    error: str | None = None
    """Why it was not replayed, or not removed after it was."""

    @property
    def failed(self) -> bool:
        return self.error is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "processor": self.letter.processor,
            "id": self.letter.id,
            "kind": self.letter.kind,
            "trace": self.letter.trace,
            "via": self.via,
            "target": self.target,
            "accepted": self.accepted,
            "deleted": self.deleted,
            "error": self.error,
        }


OnReplay = Callable[[Replay], None]


def select(
    queues: Queues, selection: Selection, limit: int = READ_LIMIT
) -> tuple[list[Letter], list[QueueContents]]:
    """Read the queues the selection names, hold the letters it matches for a replay and
    release the rest; ``DeadLetterError`` when a filter was given and nothing matched."""
    contents = [
        queues.read(processor, hold=HOLD_REPLAY, limit=limit)
        for processor in queues.processors(selection.processors)
    ]
    chosen: list[Letter] = []
    others: list[Letter] = []
    for queue in contents:
        for letter in queue.letters:
            (chosen if selection.matches(letter) else others).append(letter)
    queues.release(others)
    read = sum(len(queue.letters) for queue in contents)
    if not chosen and read and selection.describe():
        raise DeadLetterError(
            f"no dead letter matches {selection.describe()} ({read} letters read in the "
            f"queues of {', '.join(q.processor for q in contents)}): "
            "`attak dead-letters list` shows what is there"
        )
    if not chosen and selection.describe():
        raise DeadLetterError(
            f"no dead letter matches {selection.describe()}: the dead-letter queues of "
            f"{', '.join(q.processor for q in contents) or 'the topology'} are empty"
        )
    return chosen, contents


def plan(deployment: Deployment, letters: Sequence[Letter]) -> list[Replay]:
    """Where each letter would go, checked against the deployment (nothing sent)."""
    streams = set(deployment.streams.values())
    replays = []
    for letter in letters:
        processor = deployment.processors[letter.processor]
        if letter.kind == "invoke":
            replays.append(Replay(letter, "invoke", processor.function))
        elif letter.kind in ("event", "batch"):
            stream = letter.stream or ""
            if stream not in streams:
                replays.append(
                    Replay(
                        letter,
                        "skip",
                        "",
                        error=f"stream '{stream}' is not in the deployed topology any more; "
                        "the letter stays in its queue",
                    )
                )
            elif letter.kind == "event" and "record" in letter.document:
                replays.append(
                    Replay(
                        letter,
                        "skip",
                        stream,
                        error="its record could not be read (corrupt data): replaying it "
                        "would fail the same way; `attak dead-letters show` has its bytes",
                    )
                )
            else:
                replays.append(Replay(letter, "stream", stream))
        else:
            replays.append(
                Replay(
                    letter, "skip", "", error="not a dead letter attak can replay (unknown shape)"
                )
            )
    return replays


def replay(
    replays: Sequence[Replay],
    queues: Queues,
    kinesis: Any,
    lambda_client: Any,
    *,
    on_replay: OnReplay | None = None,
    chunk: int = CHUNK,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Replay]:
    """Send each planned letter back, ``chunk`` at a time, deleting from its queue those
    whose replay was accepted before the next chunk goes (see the module docstring).
    Letters not replayed are released, to be there for the next try."""
    report = on_replay or (lambda _: None)
    try:
        for start in range(0, len(replays), chunk):
            part = replays[start : start + chunk]
            _send(part, kinesis, lambda_client, sleep)
            accepted = [r for r in part if r.accepted]
            failed = queues.delete([r.letter for r in accepted])
            for item in accepted:
                reason = failed.get(item.letter.id)
                if reason is None:
                    item.deleted = True
                else:
                    item.error = (
                        f"replayed, but not removed from its queue ({reason}): a later replay "
                        "would send it twice"
                    )
            for item in part:
                report(item)
    finally:
        queues.release([r.letter for r in replays if not r.deleted])
    return list(replays)


def _send(
    part: Sequence[Replay], kinesis: Any, lambda_client: Any, sleep: Callable[[float], None]
) -> None:
    by_stream: dict[str, list[Replay]] = {}
    for item in part:
        if item.via == "stream":
            by_stream.setdefault(item.target, []).append(item)
        elif item.via == "invoke":
            _invoke(lambda_client, item, sleep)
    for stream, group in by_stream.items():
        events = [r for r in group if r.letter.kind == "event"]
        if events:
            _put_events(kinesis, stream, events, sleep)
        for item in group:
            if item.letter.kind == "batch":
                _put_batch(kinesis, stream, item, sleep)


def _put_events(
    kinesis: Any, stream: str, group: list[Replay], sleep: Callable[[float], None]
) -> None:
    """Runtime letters back into ``stream`` as the envelopes they were (module docstring);
    binary data an outside producer wrote goes back as the record it was."""
    producer = Producer(kinesis, stream, max_attempts=MAX_ATTEMPTS, sleep=sleep)
    sent: list[Replay] = []
    raw: list[Replay] = []
    for item in group:
        document = item.letter.document
        if "data_base64" in document:
            raw.append(item)
            continue
        try:
            producer.send_envelope(envelope_of(document), str(item.letter.trace or ""))
        except EmitError as exc:
            item.error = str(exc)
            continue
        sent.append(item)
    for item, landing in zip(sent, producer.flush(), strict=True):
        if landing.sent:
            item.accepted = True
        else:
            item.error = landing.error
    for item in raw:
        record = OutgoingRecord(item.letter.id[:256] or "replay", None, item.letter.data, 1, None)
        _write(kinesis, stream, [record], item, sleep)


def envelope_of(document: dict[str, Any]) -> str:
    """The envelope of a runtime letter's event, as the stream carried it: its data, topic,
    sender, trace and hops (hop 0 and no sender for outside input), marked to be logged."""
    trace = str(document.get("trace") or document.get("sequence") or "")
    sender, topic = document.get("sender"), document.get("topic")
    if sender is None and topic is None:
        return encode_input(document.get("data"), trace, logged=True)
    return encode(
        document.get("data"),
        topic=str(topic or ""),
        source=str(sender or ""),
        trace=trace,
        hops=int(document.get("hops") or 0),
        logged=True,
    )


def _put_batch(kinesis: Any, stream: str, item: Replay, sleep: Callable[[float], None]) -> None:
    """A Lambda batch record's records, read back and written into their stream again."""
    try:
        fetched = fetch_records(kinesis, item.letter)
    except Exception as exc:
        item.error = f"its records could not be read from stream '{stream}': {error_text(exc)}"
        return
    if fetched.missing is not None:
        item.error = f"{fetched.missing}; the letter stays in its queue (see it with `show`)"
        return
    records = [
        OutgoingRecord(str(r["PartitionKey"]), None, bytes(r["Data"]), 1, None)
        for r in fetched.records
    ]
    _write(kinesis, stream, records, item, sleep)


def _write(
    kinesis: Any,
    stream: str,
    records: list[OutgoingRecord],
    item: Replay,
    sleep: Callable[[float], None],
) -> None:
    emitter = KinesisEmitter(kinesis, max_attempts=MAX_ATTEMPTS, sleep=sleep)
    try:
        emitter.write(stream, records)
    except WriteError as exc:
        item.error = f"not written to stream '{stream}': {exc.reason}"
        return
    except Exception as exc:  # botocore's (no credentials, a bad parameter)
        item.error = f"not written to stream '{stream}': {error_text(exc)}"
        return
    item.accepted = True


def _invoke(lambda_client: Any, item: Replay, sleep: Callable[[float], None]) -> None:
    """A direct invocation's record invoked again, asynchronously, with its payload."""
    payload = json.dumps(item.letter.document.get("requestPayload"), ensure_ascii=False)
    try:
        with_backoff(
            lambda: lambda_client.invoke(
                FunctionName=item.target, InvocationType="Event", Payload=payload.encode()
            ),
            attempts=MAX_ATTEMPTS,
            sleep=sleep,
        )
    except Exception as exc:
        item.error = f"not invoked: {error_text(exc)}"
        return
    item.accepted = True
