"""``lambda_handler``: a Kinesis event-source-mapping batch or a direct invocation in,
``batchItemFailures`` (or the handler's exception) out, a JSON log line per record of a
logged trace or that failed, and one per invocation.

The runner is built from the environment the CDK stack sets (ATTAK_*); the Kinesis
transport is replaced by building the ``Runner`` with a list transport and installing
it as the module's cached ``_runner``. The Kinesis engine invokes its consumers through
the same entry (``handle_event``): it answers a batch exactly as ``lambda_handler`` does.
"""

from __future__ import annotations

import base64
import dataclasses
import gzip
import importlib
import json
import os
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from attak_cdk.project import load_topology
from attak_cdk.runtime import handler as handler_module
from attak_cdk.runtime.aggregate import compress, pack
from attak_cdk.runtime.config import ROUTES_FILE
from attak_cdk.runtime.context import Emit
from attak_cdk.runtime.emitter import KinesisEmitter
from attak_cdk.runtime.envelope import EmitError, decode, encode, encode_input
from attak_cdk.runtime.handler import Runner, lambda_handler
from attak_cdk.runtime.logs import RecordLog, announced
from attak_cdk.simulate import lambda_events
from attak_cdk.simulate.kinesis import KinesisEngine
from tests.conftest import PASS_ON, SINK, WriteProject

PROCESSOR_SOURCE = """
class Boom(RuntimeError):
    pass


SEEN = []


def handler(event, context):
    SEEN.append((event, context.trace_id, context.processor, context.topology))
    if isinstance(event, dict) and event.get("fail"):
        context.emit("out", {"discarded": event})
        raise Boom("cannot handle " + str(event["fail"]))
    context.emit("out", event)
    context.emit("side", event)
"""

ROUTES = [
    {"stream": "stream-out", "topic": "out", "to": "reverse"},
    {"stream": "stream-all", "topic": None, "to": "archive"},
]


class ListTransport:
    def __init__(self) -> None:
        self.calls: list[tuple[str, list[Emit]]] = []

    def put(self, stream: str, emits: Sequence[Emit]) -> None:
        self.calls.append((stream, list(emits)))

    def envelopes(self, stream: str) -> list[dict[str, Any]]:
        return [decode(e.payload, "") for s, emits in self.calls if s == stream for e in emits]


class FailingTransport:
    def put(self, stream: str, emits: Sequence[Emit]) -> None:
        raise EmitError(f"{len(emits)} of {len(emits)} records could not be written")


class LambdaContext:
    function_name = "attak-reverse"

    def __init__(self, request_id: str = "req-0001") -> None:
        self.aws_request_id = request_id

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@pytest.fixture
def processor_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A processor module on sys.path in a task root holding its routes file, and the
    ATTAK_* environment that names it."""
    name = f"attak_test_processor_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(PROCESSOR_SOURCE), encoding="utf-8")
    write_routes(tmp_path, ROUTES)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("LAMBDA_TASK_ROOT", str(tmp_path))
    monkeypatch.setenv("ATTAK_HANDLER", f"{name}:handler")
    monkeypatch.setenv("ATTAK_PROCESSOR", "reverse")
    monkeypatch.setenv("ATTAK_TOPOLOGY", "attak-example")
    monkeypatch.setenv("ATTAK_MAX_HOPS", "5")
    module = importlib.import_module(name)
    yield module
    sys.modules.pop(name, None)


def write_routes(
    task_root: Path, routes: list[dict[str, Any]], retries: dict[str, int] | None = None
) -> None:
    """The routes file the stack writes into a function's asset, at Lambda's task root."""
    document = {"routes": routes, "retries": retries or {}}
    (task_root / ROUTES_FILE).write_text(json.dumps(document), encoding="utf-8")


def install_runner(
    monkeypatch: pytest.MonkeyPatch, module: Any, transport: Any, sampling: float = 1.0
) -> Runner:
    """The runner ``_runner_from_environment`` would build, with ``transport`` for Kinesis;
    every trace logged unless ``sampling`` says otherwise."""
    log = RecordLog(os.environ["ATTAK_PROCESSOR"], sampling)
    runner = Runner(
        handler=announced(module.handler, log),
        processor=os.environ["ATTAK_PROCESSOR"],
        topology=os.environ["ATTAK_TOPOLOGY"],
        routes=handler_module.read_routes()[0],
        transport=transport,
        max_hops=int(os.environ["ATTAK_MAX_HOPS"]),
        observer=log,
    )
    monkeypatch.setattr(handler_module, "_runner", runner)
    return runner


@pytest.fixture
def transport(processor_module: Any, monkeypatch: pytest.MonkeyPatch) -> ListTransport:
    transport = ListTransport()
    install_runner(monkeypatch, processor_module, transport)
    return transport


def kinesis_event(*payloads: bytes | str) -> dict[str, Any]:
    """A Kinesis event-source-mapping batch as Lambda delivers it."""
    records = []
    for i, payload in enumerate(payloads):
        raw = payload.encode() if isinstance(payload, str) else payload
        sequence = f"4959{i:052d}"
        records.append(
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": f"pk-{i}",
                    "sequenceNumber": sequence,
                    "data": base64.b64encode(raw).decode("ascii"),
                    "approximateArrivalTimestamp": 1_700_000_000.0 + i,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"shardId-000000000000:{sequence}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": "arn:aws:iam::123456789012:role/attak-reverse",
                "awsRegion": "us-east-1",
                "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/in",
            }
        )
    return {"Records": records}


def sequence_of(event: dict[str, Any], index: int) -> str:
    return str(event["Records"][index]["kinesis"]["sequenceNumber"])


def upstream(data: Any, trace: str, hops: int = 1) -> bytes:
    return encode(data, topic="in", source="spout", trace=trace, hops=hops).encode()


def log_lines(read: Callable[[], Any], kind: str = "record") -> list[dict[str, Any]]:
    """The runtime's lines of one kind (``record``, ``batch``, ``start``) in stdout."""
    lines = [json.loads(line) for line in read().out.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("attak") == kind]


# --- Kinesis batches -----------------------------------------------------------------


def test_each_event_of_an_aggregated_record_is_its_own_handler_call_and_trace(
    transport: ListTransport, processor_module: Any
) -> None:
    outside = pack([("k1", b'{"n": 1}'), ("k2", b"plain text"), ("k1", b'{"n": 3}')])
    event = kinesis_event(upstream("a", "t-a"), compress(outside), upstream("z", "t-z"))

    result = lambda_handler(event, LambdaContext())

    assert result == {"batchItemFailures": []}
    seen = [(e, trace) for e, trace, _, _ in processor_module.SEEN]
    second = sequence_of(event, 1)
    assert seen == [
        ("a", "t-a"),
        ({"n": 1}, second),
        ("plain text", f"{second}.1"),
        ({"n": 3}, f"{second}.2"),
        ("z", "t-z"),
    ]
    assert [e["trace"] for e in transport.envelopes("stream-out")] == [t for _, t in seen]


def test_a_failing_event_of_an_aggregate_names_its_kinesis_record(
    transport: ListTransport, processor_module: Any
) -> None:
    aggregate = pack([("k", upstream("ok", "t-1")), ("k", upstream({"fail": 2}, "t-2"))])
    event = kinesis_event(upstream("first", "t-0"), aggregate, upstream("never", "t-3"))

    result = lambda_handler(event, LambdaContext())

    # Lambda retries from the record: the aggregate, whose first event ran already
    assert result == {"batchItemFailures": [{"itemIdentifier": sequence_of(event, 1)}]}
    assert [e["data"] for e in transport.envelopes("stream-out")] == ["first", "ok"]


def test_a_corrupt_record_fails_alone_naming_its_stream_and_sequence_number(
    transport: ListTransport, processor_module: Any
) -> None:
    truncated = pack([("k", upstream("lost", "t-1"))])[:-5]
    event = kinesis_event(upstream("before", "t-0"), truncated, upstream("after", "t-2"))

    result = lambda_handler(event, LambdaContext())

    assert result == {"batchItemFailures": [{"itemIdentifier": sequence_of(event, 1)}]}
    assert [e["data"] for e in transport.envelopes("stream-out")] == ["before"]


def test_a_cloudwatch_logs_control_message_calls_no_handler(
    transport: ListTransport, processor_module: Any
) -> None:
    control = gzip.compress(b'{"messageType": "CONTROL_MESSAGE", "logEvents": []}')

    result = lambda_handler(kinesis_event(control), LambdaContext())

    assert result == {"batchItemFailures": []}
    assert processor_module.SEEN == []


def test_kinesis_batch_that_succeeds_reports_no_failures_and_flushes_emits(
    transport: ListTransport, processor_module: Any
) -> None:
    event = kinesis_event(upstream("abc", "t-1"), upstream("déf", "t-2"))

    result = lambda_handler(event, LambdaContext())

    assert result == {"batchItemFailures": []}
    assert [e["data"] for e in transport.envelopes("stream-out")] == ["abc", "déf"]
    assert [e["data"] for e in transport.envelopes("stream-all")] == ["abc", "abc", "déf", "déf"]
    assert [e["trace"] for e in transport.envelopes("stream-out")] == ["t-1", "t-2"]
    assert {e["from"] for e in transport.envelopes("stream-out")} == {"reverse"}
    assert [e["hops"] for e in transport.envelopes("stream-out")] == [2, 2]
    assert [seen[0] for seen in processor_module.SEEN] == ["abc", "déf"]


def test_handler_sees_processor_and_topology_from_the_environment(
    transport: ListTransport, processor_module: Any
) -> None:
    lambda_handler(kinesis_event(upstream("x", "t")), LambdaContext())

    assert processor_module.SEEN == [("x", "t", "reverse", "attak-example")]


def test_kinesis_batch_failing_at_second_record_names_its_sequence_number(
    transport: ListTransport, processor_module: Any
) -> None:
    event = kinesis_event(
        upstream("first", "t-1"), upstream({"fail": 2}, "t-2"), upstream("third", "t-3")
    )

    result = lambda_handler(event, LambdaContext())

    assert result == {"batchItemFailures": [{"itemIdentifier": sequence_of(event, 1)}]}
    assert [e["data"] for e in transport.envelopes("stream-out")] == ["first"]
    assert [seen[0] for seen in processor_module.SEEN] == ["first", {"fail": 2}]


def test_kinesis_record_with_unreadable_data_is_reported_as_failed(
    transport: ListTransport,
) -> None:
    event = kinesis_event(upstream("ok", "t-1"), b"\xff\xfe not json")

    result = lambda_handler(event, LambdaContext())

    assert result == {"batchItemFailures": [{"itemIdentifier": sequence_of(event, 1)}]}
    assert [e["data"] for e in transport.envelopes("stream-out")] == ["ok"]


def test_kinesis_record_from_an_outside_producer_is_the_whole_event_traced_by_sequence(
    transport: ListTransport, processor_module: Any
) -> None:
    event = kinesis_event(json.dumps({"user": "ana"}))

    assert lambda_handler(event, LambdaContext()) == {"batchItemFailures": []}
    assert processor_module.SEEN[0][:2] == ({"user": "ana"}, sequence_of(event, 0))
    assert transport.envelopes("stream-out")[0]["hops"] == 1


def test_kinesis_batch_whose_emits_cannot_be_written_raises_so_the_batch_is_retried(
    processor_module: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_runner(monkeypatch, processor_module, FailingTransport())

    with pytest.raises(EmitError, match="could not be written"):
        lambda_handler(kinesis_event(upstream("x", "t")), LambdaContext())


def test_records_of_another_event_source_are_treated_as_a_direct_invoke(
    transport: ListTransport, processor_module: Any
) -> None:
    event = {"Records": [{"eventSource": "aws:sqs", "body": "hi"}]}

    result = lambda_handler(event, LambdaContext())

    assert result == {"processor": "reverse", "outcome": "ok"}
    assert processor_module.SEEN[0][0] == event


# --- direct invocations --------------------------------------------------------------


def test_direct_invoke_with_raw_data_runs_the_handler_with_that_event(
    transport: ListTransport, processor_module: Any
) -> None:
    result = lambda_handler({"user": "ana", "text": "héllo"}, LambdaContext("req-42"))

    assert result == {"processor": "reverse", "outcome": "ok"}
    assert processor_module.SEEN == [
        ({"user": "ana", "text": "héllo"}, "req-42", "reverse", "attak-example")
    ]
    [emitted] = transport.envelopes("stream-out")
    assert emitted["data"] == {"user": "ana", "text": "héllo"}
    assert emitted["trace"] == "req-42"
    assert emitted["hops"] == 1


def test_direct_invoke_with_an_attak_envelope_keeps_its_trace(
    transport: ListTransport, processor_module: Any
) -> None:
    event = {"v": 1, "trace": "trace-from-trigger", "data": ["a", "b"]}

    result = lambda_handler(event, LambdaContext("req-43"))

    assert result == {"processor": "reverse", "outcome": "ok"}
    assert processor_module.SEEN[0][:2] == (["a", "b"], "trace-from-trigger")
    assert transport.envelopes("stream-out")[0]["trace"] == "trace-from-trigger"


def test_direct_invoke_envelope_from_encode_input_is_unwrapped(
    transport: ListTransport, processor_module: Any
) -> None:
    event = json.loads(encode_input("payload", "trace-x"))

    lambda_handler(event, LambdaContext())

    assert processor_module.SEEN[0][:2] == ("payload", "trace-x")


def test_direct_invoke_without_a_lambda_request_id_still_gets_a_trace(
    transport: ListTransport, processor_module: Any
) -> None:
    lambda_handler("plain", None)

    event, trace, _, _ = processor_module.SEEN[0]
    assert event == "plain"
    assert isinstance(trace, str)
    assert trace


def test_direct_invoke_failure_re_raises_the_handlers_exception(
    transport: ListTransport, processor_module: Any
) -> None:
    with pytest.raises(processor_module.Boom, match="cannot handle 7"):
        lambda_handler({"fail": 7}, LambdaContext())

    assert transport.calls == []


# --- the structured log line ---------------------------------------------------------


def test_each_record_logs_one_json_line_with_processor_trace_and_outcome(
    transport: ListTransport, capsys: pytest.CaptureFixture[str]
) -> None:
    event = kinesis_event(upstream("a", "t-1"), upstream("b", "t-2"))

    lambda_handler(event, LambdaContext())

    lines = log_lines(capsys.readouterr)
    assert len(lines) == 2
    for line, trace, index in zip(lines, ["t-1", "t-2"], [0, 1], strict=True):
        assert line["attak"] == "record"
        assert line["processor"] == "reverse"
        assert line["trace"] == trace
        assert line["topic"] == "in"
        assert line["sequence"] == sequence_of(event, index)
        assert line["outcome"] == "ok"
        assert line["emits"] == ["out", "side"]
        assert "error" not in line
        assert line["ms"] >= 0


def test_failing_record_logs_outcome_error_with_the_error(
    transport: ListTransport, capsys: pytest.CaptureFixture[str]
) -> None:
    event = kinesis_event(upstream("a", "t-1"), upstream({"fail": 3}, "t-2"), upstream("c", "t"))

    lambda_handler(event, LambdaContext())

    lines = log_lines(capsys.readouterr)
    assert [line["outcome"] for line in lines] == ["ok", "error"]
    failed = lines[1]
    assert failed["processor"] == "reverse"
    assert failed["trace"] == "t-2"
    assert failed["sequence"] == sequence_of(event, 1)
    assert failed["error"] == "Boom: cannot handle 3"
    assert failed["emits"] == []


def test_unreadable_record_logs_an_error_without_a_trace(
    transport: ListTransport, capsys: pytest.CaptureFixture[str]
) -> None:
    corrupt = pack([("k", upstream("a", "t-1"))])[:-1] + b"\x00"  # its checksum is off
    lambda_handler(kinesis_event(corrupt), LambdaContext())

    [line] = log_lines(capsys.readouterr)
    assert line["outcome"] == "error"
    assert line["trace"] is None
    assert line["error"].startswith("CorruptRecord: stream 'in', record 4959")


def test_direct_invoke_failure_is_logged_before_it_is_raised(
    transport: ListTransport, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(RuntimeError):
        lambda_handler({"fail": 1}, LambdaContext("req-9"))

    [line] = log_lines(capsys.readouterr)
    assert line["outcome"] == "error"
    assert line["trace"] == "req-9"
    assert line["error"] == "Boom: cannot handle 1"


# --- the runner built from the environment -------------------------------------------


def test_runner_is_built_once_from_the_environment_and_cached(
    processor_module: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A region and dummy credentials so boto3 can build the client; no call is made
    # because the event below emits only to a sink topic.
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    write_routes(
        Path(os.environ["LAMBDA_TASK_ROOT"]), [{"stream": "s", "topic": "other"}], {"in": 3}
    )
    monkeypatch.setattr(handler_module, "_runner", None)

    result = lambda_handler("hello", LambdaContext())

    runner = handler_module._runner
    assert result == {"processor": "reverse", "outcome": "ok"}
    assert runner is not None
    assert runner.processor == "reverse"
    assert runner.topology == "attak-example"
    assert runner.max_hops == 5
    assert runner.routes.streams_for("other") == ("s",)
    assert runner.routes.streams_for("out") == ()
    assert runner.retries == {"in": 3}
    assert isinstance(runner.transport, KinesisEmitter)
    assert isinstance(runner.observer, RecordLog)
    assert runner.observer.sampling == 0.01
    assert runner.handler.__wrapped__ is processor_module.handler  # type: ignore[attr-defined]

    lambda_handler("again", LambdaContext())
    assert handler_module._runner is runner
    assert [seen[0] for seen in processor_module.SEEN] == ["hello", "again"]


# --- the Kinesis engine invokes processors through the same entry ----------------------


@pytest.fixture
def kinesis_engine(write_project: WriteProject, processor_module: Any) -> KinesisEngine:
    """A Kinesis engine whose stream consumer ``reverse`` runs the processor module's
    handler. Nothing is created on the endpoint (nor called): the test hands the engine's
    event-source mapping its events itself."""
    root = write_project(
        {
            "p/pass.py": PASS_ON,
            "p/sink.py": SINK,
            "topology.yml": "name: attak-example\n"
            "processors: {spout: p/pass.py, reverse: p/sink.py}\n"
            "streams: [[spout, reverse]]\n",
        }
    )
    return KinesisEngine(
        load_topology(root),
        endpoint_url="http://127.0.0.1:9",
        handlers={"reverse": processor_module.handler},
        timeouts=False,
    )


@pytest.mark.parametrize(
    ("payloads", "failing"),
    [
        ([upstream("abc", "t-1"), upstream("déf", "t-2")], None),
        ([upstream("first", "t-1"), upstream({"fail": 2}, "t-2"), upstream("third", "t-3")], 1),
        ([upstream("ok", "t-1"), b"\xff\xfe not json", upstream("after", "t-3")], 1),
        ([json.dumps({"user": "ana"}).encode(), upstream({"fail": 1}, "t-2")], 1),
    ],
    ids=["succeeds", "handler-fails", "unreadable-record", "outside-producer"],
)
def test_kinesis_engine_answers_a_batch_exactly_as_lambda_handler_does(
    kinesis_engine: KinesisEngine,
    processor_module: Any,
    monkeypatch: pytest.MonkeyPatch,
    payloads: list[bytes],
    failing: int | None,
) -> None:
    """Both go through the runtime's ``handle_event``: the same event and the same runner
    give the same partial batch response and run the handler on the same events."""
    stream = next(s for s in kinesis_engine.mapping.streams if s.consumer == "reverse")
    stream.arn = f"arn:aws:kinesis:us-east-1:123456789012:stream/{stream.physical}"  # as created
    read = [
        {"SequenceNumber": f"4959{i:052d}", "PartitionKey": f"pk-{i}", "Data": payload}
        for i, payload in enumerate(payloads)
    ]
    event = lambda_events.kinesis_event(read, stream.arn, "shardId-000000000000", "us-east-1")

    engine_response, engine_error = kinesis_engine.mapping.invoke(stream, event, 1)
    seen_by_engine = [seen[:2] for seen in processor_module.SEEN]
    processor_module.SEEN.clear()
    monkeypatch.setattr(handler_module, "_runner", kinesis_engine.runners["reverse"])
    lambda_response = lambda_handler(event, LambdaContext())

    assert engine_response == lambda_response
    assert [seen[:2] for seen in processor_module.SEEN] == seen_by_engine
    # A failing event is retried in place and dead-lettered by the runtime itself: the
    # record does not fail, so neither answer names it, and both kept the same letter.
    assert lambda_response == {"batchItemFailures": []}
    assert engine_error is None
    letters = kinesis_engine.result.dead_letters
    if failing is None:
        assert letters == []
    else:
        assert len(letters) == 2
        assert letters[0] == dataclasses.replace(letters[1], invocation=letters[0].invocation)
        assert (letters[0].source, letters[0].processor) == ("spout->reverse", "reverse")


# --- sampled trace logs and the summary line --------------------------------------------


def test_each_invocation_writes_one_summary_line_with_counts_and_emits_per_topic(
    processor_module: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    install_runner(monkeypatch, processor_module, ListTransport(), sampling=0.0)
    event = kinesis_event(upstream("a", "t-1"), upstream("b", "t-2"), upstream({"fail": 1}, "t"))

    lambda_handler(event, LambdaContext())

    out = capsys.readouterr
    [summary] = log_lines(out, "batch")
    assert summary["processor"] == "reverse"
    assert (summary["records"], summary["events"], summary["errors"]) == (3, 3, 1)
    assert summary["emits"] == {"out": 2, "side": 2}, "a failed record's emits are discarded"
    assert summary["ms"] >= 0
    assert "error" not in summary and "dead_letters" not in summary


def test_records_of_traces_not_sampled_are_not_logged_but_errors_always_are(
    processor_module: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    install_runner(monkeypatch, processor_module, ListTransport(), sampling=0.0)

    lambda_handler(kinesis_event(upstream("a", "t-1"), upstream({"fail": 2}, "t-2")), None)

    out = capsys.readouterr().out
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(line["attak"], line.get("trace")) for line in lines] == [
        ("record", "t-2"),
        ("batch", None),
    ]
    assert lines[0]["error"] == "Boom: cannot handle 2"


def test_a_trace_marked_to_be_logged_is_logged_at_any_sampling_and_passes_the_mark_on(
    processor_module: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    transport = ListTransport()
    install_runner(monkeypatch, processor_module, transport, sampling=0.0)
    marked = encode_input("hello", "t-marked", logged=True)

    lambda_handler(kinesis_event(marked, upstream("b", "t-plain")), LambdaContext())

    out = capsys.readouterr
    assert [line["trace"] for line in log_lines(out)] == ["t-marked"]
    marks = {e["trace"]: e.get("log") for e in transport.envelopes("stream-out")}
    assert marks == {"t-marked": 1, "t-plain": None}


def test_a_sampled_records_handler_output_sits_between_its_start_and_record_lines(
    processor_module: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    install_runner(monkeypatch, processor_module, ListTransport(), sampling=1.0)
    original = processor_module.handler

    def printing(event: Any, context: Any) -> None:
        print(f"handling {event}")
        original(event, context)

    runner = handler_module._runner
    assert runner is not None
    assert isinstance(runner.observer, RecordLog)
    monkeypatch.setattr(runner, "handler", announced(printing, runner.observer))

    lambda_handler(kinesis_event(upstream("a", "t-1"), upstream("b", "t-2")), LambdaContext())

    kinds = [
        json.loads(line)["attak"] + ":" + json.loads(line).get("trace", "")
        if line.startswith("{")
        else line
        for line in capsys.readouterr().out.splitlines()
    ]
    assert kinds == [
        "start:t-1",
        "handling a",
        "record:t-1",
        "start:t-2",
        "handling b",
        "record:t-2",
        "batch:",
    ]


def test_a_failed_direct_invocation_is_summarised_with_its_error_before_it_is_raised(
    transport: ListTransport, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(RuntimeError):
        lambda_handler({"fail": 4}, LambdaContext("req-4"))

    [summary] = log_lines(capsys.readouterr, "batch")
    assert (summary["records"], summary["events"], summary["errors"]) == (1, 1, 1)
    assert summary["error"] == "Boom: cannot handle 4"


def test_sampling_rate_is_read_from_the_environment(
    processor_module: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("ATTAK_TRACE_SAMPLING", "0.25")
    monkeypatch.setattr(handler_module, "_runner", None)

    runner = handler_module._runner_from_environment()

    assert isinstance(runner.observer, RecordLog)
    assert runner.observer.sampling == 0.25


def test_a_failed_invocation_counts_its_failures_as_metrics_of_the_topologys_processor(
    processor_module: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setattr(handler_module, "_runner", None)

    with pytest.raises(RuntimeError):
        lambda_handler({"fail": 4}, LambdaContext("req-4"))

    [summary] = log_lines(capsys.readouterr, "batch")
    assert (summary["topology"], summary["processor"], summary["failed"]) == (
        "attak-example",
        "reverse",
        1,
    )
    (directive,) = summary["_aws"]["CloudWatchMetrics"]
    assert directive["Dimensions"] == [["topology", "processor"]]
    assert [m["Name"] for m in directive["Metrics"]] == ["failed"]


def test_log_bytes_per_event_stay_under_five_at_the_default_sampling(
    processor_module: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # What CloudWatch Logs ingests per event for batches of 100, the default 1% of traces
    # logged record by record: the budget that makes a TB a day affordable.
    install_runner(monkeypatch, processor_module, ListTransport(), sampling=0.01)
    batches, size = 50, 100
    for batch in range(batches):
        # Trace ids as ``new_id`` draws them: 16 hex digits, here reproducible.
        traces = [uuid.uuid5(uuid.NAMESPACE_OID, f"{batch}.{i}").hex[:16] for i in range(size)]
        lambda_handler(kinesis_event(*(upstream(t, t) for t in traces)), LambdaContext())

    written = len(capsys.readouterr().out.encode())
    assert written / (batches * size) < 5


def test_a_function_without_its_routes_file_stops_instead_of_dropping_emits(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Every asset attak packages has the file; code packaged otherwise would emit nowhere.
    monkeypatch.setenv("LAMBDA_TASK_ROOT", str(tmp_path / "elsewhere"))
    with pytest.raises(RuntimeError, match=r"attak_routes\.json is missing"):
        handler_module.read_routes()
